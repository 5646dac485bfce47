//! The visible seal (角印) of a PAdES signature (`--seal-image PNG --page N --rect
//! X1,Y1,X2,Y2` for a new field, or `--seal-image PNG --field NAME` for an empty signature
//! field the PDF has, drawn in its box): the organisation's seal image in the signature
//! widget's normal appearance (ISO 32000-1 §12.5.5, §12.7.4.5), the way Japanese e-seals are
//! shown. Without it the widget is invisible (a zero rectangle), as before.
//!
//! The PNG (ISO/IEC 15948) is read by the small bounded decoder here rather than a crate:
//! only what a seal needs (8-bit greyscale, RGB, palette, greyscale with alpha and RGBA,
//! not interlaced), with every chunk's CRC checked and the size bounded before anything is
//! inflated (through the PDF reader's `inflate`, which already bounds its output). It becomes
//! an image XObject (§8.9.5) with the alpha channel, if any, as its soft mask (`/SMask`,
//! §11.6.5.3), both FlateDecode; the widget's appearance is a form XObject that draws the
//! image centred in the rectangle with its aspect ratio kept.

use std::sync::Arc;

/// Largest PNG file accepted.
pub const MAX_PNG_BYTES: usize = 16 << 20;
/// Largest width or height accepted, in pixels.
pub const MAX_SIDE: u32 = 8192;
/// Most pixels accepted (width × height).
pub const MAX_PIXELS: u64 = 16 << 20;

/// A decoded seal image: 8-bit samples, row by row.
#[derive(Clone, PartialEq, Eq)]
pub struct SealImage {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Whether the colour samples are greyscale (one per pixel) rather than RGB (three).
    pub gray: bool,
    /// The colour samples.
    pub color: Vec<u8>,
    /// The alpha samples (one per pixel), when the image has transparency.
    pub alpha: Option<Vec<u8>>,
}

impl std::fmt::Debug for SealImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealImage")
            .field("width", &self.width)
            .field("height", &self.height)
            .field("gray", &self.gray)
            .field("alpha", &self.alpha.is_some())
            .finish()
    }
}

/// Where and what to draw: `--seal-image`, `--page`, `--rect`.
#[derive(Clone, Debug)]
pub struct Seal {
    /// The image.
    pub image: Arc<SealImage>,
    /// The page of a new field, from 1 (default 1).
    pub page: Option<u32>,
    /// The rectangle of a new field in default user space units (1/72 inch), lower-left then
    /// upper-right; none for an existing field (`--field NAME`), drawn in its own box.
    pub rect: Option<[f64; 4]>,
    /// The image's FlateDecode streams (colour, alpha), compressed once for a whole batch.
    pub(crate) streams: Arc<std::sync::OnceLock<Streams>>,
}

/// The colour samples and the alpha samples, each deflated.
pub type Streams = (Vec<u8>, Option<Vec<u8>>);

impl Seal {
    /// A seal of `image` on page `page` in `rect` (see the fields).
    pub fn new(image: SealImage, page: Option<u32>, rect: Option<[f64; 4]>) -> Self {
        Self {
            image: Arc::new(image),
            page,
            rect,
            streams: Arc::default(),
        }
    }

    /// The image's colour and alpha samples deflated (zlib, RFC 1950), computed on first use.
    pub fn streams(&self) -> &Streams {
        self.streams.get_or_init(|| {
            (
                inkan_profiles::pdf::deflate(&self.image.color),
                self.image
                    .alpha
                    .as_deref()
                    .map(inkan_profiles::pdf::deflate),
            )
        })
    }
}

/// `X1,Y1,X2,Y2` in points: four finite numbers, X1 < X2 and Y1 < Y2, within ±14,400 (the
/// largest page of ISO 32000-1 Annex C.2, 200 inches).
pub fn parse_rect(s: &str) -> Result<[f64; 4], String> {
    let bad = || format!("--rect {s:?}: give X1,Y1,X2,Y2 in points (e.g. 400,650,520,770)");
    let v: Vec<f64> = s
        .split(',')
        .map(|p| p.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| bad())?;
    let [x1, y1, x2, y2] = <[f64; 4]>::try_from(v).map_err(|_| bad())?;
    if [x1, y1, x2, y2]
        .iter()
        .any(|v| !v.is_finite() || v.abs() > 14_400.0)
    {
        return Err(bad());
    }
    if x2 - x1 < 1.0 || y2 - y1 < 1.0 {
        return Err(format!(
            "--rect {s:?}: X1 must be less than X2 and Y1 less than Y2 (lower-left corner first), \
             the rectangle at least 1 point wide and high"
        ));
    }
    Ok([x1, y1, x2, y2])
}

/// Reads and decodes the PNG at `path` (bounded: [`MAX_PNG_BYTES`], [`MAX_SIDE`],
/// [`MAX_PIXELS`]).
pub fn load_png(path: &std::path::Path) -> Result<SealImage, String> {
    use std::io::Read as _;
    let f = std::fs::File::open(path)
        .map_err(|e| format!("cannot read --seal-image {}: {e}", path.display()))?;
    let mut bytes = Vec::new();
    f.take(MAX_PNG_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read --seal-image {}: {e}", path.display()))?;
    if bytes.len() > MAX_PNG_BYTES {
        return Err(format!(
            "--seal-image {}: larger than {} MiB",
            path.display(),
            MAX_PNG_BYTES >> 20
        ));
    }
    decode_png(&bytes).map_err(|e| format!("--seal-image {}: {e}", path.display()))
}

/// CRC-32 of PNG chunks (ISO/IEC 15948 Annex D: ISO 3309 polynomial, reflected).
fn crc32(parts: &[&[u8]]) -> u32 {
    let mut c = 0xffff_ffffu32;
    for p in parts {
        for &b in *p {
            c ^= u32::from(b);
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xedb8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
        }
    }
    !c
}

/// Decodes a PNG (see the module docs for what is accepted).
pub fn decode_png(b: &[u8]) -> Result<SealImage, String> {
    const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    if !b.starts_with(SIGNATURE) {
        return Err("not a PNG file".into());
    }
    let mut at = SIGNATURE.len();
    let mut header: Option<(u32, u32, u8)> = None;
    let mut palette: Vec<[u8; 3]> = Vec::new();
    let mut trns: Option<Vec<u8>> = None;
    let mut idat = Vec::new();
    let mut ended = false;
    while at < b.len() {
        let Some(head) = b.get(at..at + 8) else {
            return Err("truncated chunk".into());
        };
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let kind = &head[4..8];
        let Some(data) = b.get(at + 8..(at + 8).saturating_add(len)) else {
            return Err("truncated chunk".into());
        };
        let Some(crc) = b.get(at + 8 + len..at + 12 + len) else {
            return Err("truncated chunk".into());
        };
        if crc32(&[kind, data]) != u32::from_be_bytes([crc[0], crc[1], crc[2], crc[3]]) {
            return Err(format!(
                "chunk {} has a wrong CRC (the file is damaged)",
                String::from_utf8_lossy(kind)
            ));
        }
        at += 12 + len;
        match kind {
            b"IHDR" => {
                if header.is_some() || data.len() != 13 {
                    return Err("bad IHDR chunk".into());
                }
                let w = u32::from_be_bytes([data[0], data[1], data[2], data[3]]);
                let h = u32::from_be_bytes([data[4], data[5], data[6], data[7]]);
                let (depth, color, compression, filter, interlace) =
                    (data[8], data[9], data[10], data[11], data[12]);
                if w == 0 || h == 0 || w > MAX_SIDE || h > MAX_SIDE {
                    return Err(format!(
                        "{w}x{h} pixels: a seal image is 1 to {MAX_SIDE} pixels wide and high"
                    ));
                }
                if u64::from(w) * u64::from(h) > MAX_PIXELS {
                    return Err(format!("{w}x{h} pixels is more than a seal needs"));
                }
                if depth != 8 {
                    return Err(format!(
                        "{depth}-bit samples are not supported: save the image with 8 bits per \
                         sample"
                    ));
                }
                if !matches!(color, 0 | 2 | 3 | 4 | 6) {
                    return Err(format!("colour type {color} is not a PNG colour type"));
                }
                if compression != 0 || filter != 0 {
                    return Err("unknown compression or filter method".into());
                }
                if interlace != 0 {
                    return Err(
                        "interlaced PNGs are not supported: save the image without interlacing"
                            .into(),
                    );
                }
                header = Some((w, h, color));
            }
            _ if header.is_none() => return Err("the first chunk is not IHDR".into()),
            b"PLTE" => {
                if data.len() % 3 != 0 || data.is_empty() || data.len() > 768 {
                    return Err("bad PLTE chunk".into());
                }
                palette = data.chunks(3).map(|c| [c[0], c[1], c[2]]).collect();
            }
            b"tRNS" => trns = Some(data.to_vec()),
            b"IDAT" => idat.extend_from_slice(data),
            b"IEND" => {
                ended = true;
                break;
            }
            // Critical chunks we do not know make the image undecodable (§5.4); ancillary
            // ones (lower-case first letter) are skipped.
            k if k[0].is_ascii_uppercase() => {
                return Err(format!(
                    "unknown critical chunk {}",
                    String::from_utf8_lossy(k)
                ));
            }
            _ => {}
        }
    }
    let Some((w, h, color)) = header else {
        return Err("no IHDR chunk".into());
    };
    if !ended {
        return Err("no IEND chunk (the file is cut short)".into());
    }
    let channels = match color {
        0 => 1,
        2 => 3,
        3 => 1,
        4 => 2,
        _ => 4,
    };
    if color == 3 && palette.is_empty() {
        return Err("a palette image without PLTE".into());
    }
    let (w, h) = (w as usize, h as usize);
    let row = w * channels;
    let expected = h * (row + 1);
    let raw = inkan_profiles::pdf::inflate(&idat, expected)
        .map_err(|_| "the image data is corrupt or larger than its header says".to_string())?;
    if raw.len() < expected {
        return Err("the image data is cut short".into());
    }
    // Undo the per-row filters (§9.2), bytes per pixel = channels at 8 bits.
    let mut px = vec![0u8; h * row];
    for y in 0..h {
        let line = &raw[y * (row + 1)..(y + 1) * (row + 1)];
        let (kind, src) = (line[0], &line[1..]);
        let (done, rest) = px.split_at_mut(y * row);
        let prev = if y > 0 {
            &done[(y - 1) * row..]
        } else {
            &[][..]
        };
        let cur = &mut rest[..row];
        for i in 0..row {
            let a = if i >= channels { cur[i - channels] } else { 0 };
            let up = prev.get(i).copied().unwrap_or(0);
            let c = if i >= channels {
                prev.get(i - channels).copied().unwrap_or(0)
            } else {
                0
            };
            let add = match kind {
                0 => 0,
                1 => a,
                2 => up,
                3 => ((u16::from(a) + u16::from(up)) / 2) as u8,
                4 => {
                    let p = i16::from(a) + i16::from(up) - i16::from(c);
                    let (pa, pb, pc) = (
                        (p - i16::from(a)).abs(),
                        (p - i16::from(up)).abs(),
                        (p - i16::from(c)).abs(),
                    );
                    if pa <= pb && pa <= pc {
                        a
                    } else if pb <= pc {
                        up
                    } else {
                        c
                    }
                }
                _ => return Err(format!("row {y} has an unknown filter type {kind}")),
            };
            cur[i] = src[i].wrapping_add(add);
        }
    }
    let n = w * h;
    let (gray, color_out, alpha) = match color {
        0 => {
            // A tRNS grey level (16-bit, of which the low byte at 8 bits) is transparent.
            let key = trns.as_deref().filter(|t| t.len() == 2).map(|t| t[1]);
            let alpha = key.map(|k| px.iter().map(|&g| if g == k { 0 } else { 255 }).collect());
            (true, px, alpha)
        }
        2 => {
            let key = trns
                .as_deref()
                .filter(|t| t.len() == 6)
                .map(|t| [t[1], t[3], t[5]]);
            let alpha = key.map(|k| px.chunks(3).map(|p| if p == k { 0 } else { 255 }).collect());
            (false, px, alpha)
        }
        3 => {
            let mut rgb = Vec::with_capacity(n * 3);
            let mut alpha = Vec::with_capacity(n);
            for &i in &px {
                let Some(c) = palette.get(usize::from(i)) else {
                    return Err(format!("palette index {i} is past the palette"));
                };
                rgb.extend_from_slice(c);
                alpha.push(
                    trns.as_deref()
                        .and_then(|t| t.get(usize::from(i)))
                        .copied()
                        .unwrap_or(255),
                );
            }
            let alpha = trns.is_some().then_some(alpha);
            (false, rgb, alpha)
        }
        4 => {
            let g = px.chunks(2).map(|p| p[0]).collect();
            let a = px.chunks(2).map(|p| p[1]).collect();
            (true, g, Some(a))
        }
        _ => {
            let mut rgb = Vec::with_capacity(n * 3);
            let mut a = Vec::with_capacity(n);
            for p in px.chunks(4) {
                rgb.extend_from_slice(&p[..3]);
                a.push(p[3]);
            }
            (false, rgb, Some(a))
        }
    };
    // A fully opaque alpha channel is no mask.
    let alpha = alpha.filter(|a: &Vec<u8>| a.iter().any(|&v| v != 255));
    Ok(SealImage {
        width: w as u32,
        height: h as u32,
        gray,
        color: color_out,
        alpha,
    })
}

/// Writes a PNG of `img` (no compression tricks: one IDAT, filter 0): for tests and the
/// benchmark, which need seal images without an image tool.
pub fn encode_png(img: &SealImage) -> Vec<u8> {
    let channels = match (img.gray, img.alpha.is_some()) {
        (true, false) => 1,
        (true, true) => 2,
        (false, false) => 3,
        (false, true) => 4,
    };
    let color_type: u8 = match channels {
        1 => 0,
        2 => 4,
        3 => 2,
        _ => 6,
    };
    let (w, h) = (img.width as usize, img.height as usize);
    let cs = if img.gray { 1 } else { 3 };
    let mut raw = Vec::with_capacity(h * (1 + w * channels));
    for y in 0..h {
        raw.push(0);
        for x in 0..w {
            let i = y * w + x;
            raw.extend_from_slice(&img.color[i * cs..(i + 1) * cs]);
            if let Some(a) = &img.alpha {
                raw.push(a[i]);
            }
        }
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = |kind: &[u8], data: &[u8]| {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&crc32(&[kind, data]).to_be_bytes());
    };
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&img.width.to_be_bytes());
    ihdr.extend_from_slice(&img.height.to_be_bytes());
    ihdr.extend_from_slice(&[8, color_type, 0, 0, 0]);
    chunk(b"IHDR", &ihdr);
    chunk(b"IDAT", &inkan_profiles::pdf::deflate(&raw));
    chunk(b"IEND", &[]);
    out
}

/// A red square seal of `side` pixels with a transparent background and a frame, as a test
/// image (RGBA).
pub fn sample_seal(side: u32) -> SealImage {
    let s = side as usize;
    let mut color = Vec::with_capacity(s * s * 3);
    let mut alpha = Vec::with_capacity(s * s);
    for y in 0..s {
        for x in 0..s {
            let edge = x < s / 10 || y < s / 10 || x >= s - s / 10 || y >= s - s / 10;
            let cross = (x * 7 / s.max(1)) % 2 == 1 && (y * 7 / s.max(1)) % 2 == 1;
            color.extend_from_slice(&[200, 16, 32]);
            alpha.push(if edge || cross { 255 } else { 0 });
        }
    }
    SealImage {
        width: side,
        height: side,
        gray: false,
        color,
        alpha: Some(alpha),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_round_trip_and_crc() {
        // The CRC of "IEND" with no data is the well-known AE426082.
        assert_eq!(crc32(&[b"IEND"]), 0xae42_6082);
        let img = sample_seal(40);
        let png = encode_png(&img);
        assert_eq!(decode_png(&png).unwrap(), img);
        let mut gray = img.clone();
        gray.gray = true;
        gray.color = vec![7; 40 * 40];
        gray.alpha = None;
        assert_eq!(decode_png(&encode_png(&gray)).unwrap(), gray);
    }

    #[test]
    fn bad_pngs_are_refused_not_panics() {
        let png = encode_png(&sample_seal(16));
        for i in 0..png.len() {
            let _ = decode_png(&png[..i]);
            let mut m = png.clone();
            m[i] ^= 0x55;
            let _ = decode_png(&m);
        }
        let mut m = png.clone();
        let last = m.len() - 20;
        m[last] ^= 1;
        assert!(decode_png(&m).is_err());
        // 100,000 x 100,000 is refused before anything is inflated.
        let mut big = png.clone();
        big[16..20].copy_from_slice(&100_000u32.to_be_bytes());
        big[20..24].copy_from_slice(&100_000u32.to_be_bytes());
        let crc = crc32(&[&big[12..16], &big[16..29]]);
        big[29..33].copy_from_slice(&crc.to_be_bytes());
        assert!(decode_png(&big).unwrap_err().contains("pixels"));
    }

    #[test]
    fn rects() {
        assert_eq!(
            parse_rect("400,650,520,770").unwrap(),
            [400.0, 650.0, 520.0, 770.0]
        );
        assert_eq!(
            parse_rect(" 1.5, 2 ,30,40").unwrap(),
            [1.5, 2.0, 30.0, 40.0]
        );
        for bad in [
            "",
            "1,2,3",
            "1,2,3,4,5",
            "10,10,5,20",
            "a,b,c,d",
            "0,0,inf,1",
            "0,0,1e9,1",
        ] {
            assert!(parse_rect(bad).is_err(), "{bad}");
        }
    }
}
