//! The words of a PDF signature's place in a report ([`Place`], [`place_text`]): what it
//! covers and what later revisions changed, in Japanese or English. Text only, shared by the
//! report (`report::Report::to_text`) and the page; the PDF itself is read in `pdf`.

use serde::Serialize;

/// Where a PDF signature sits: reported with each entry of `signers`.
#[derive(Clone, Debug, Serialize)]
pub struct Place {
    /// `"PAdES signature"` or `"document time-stamp"`.
    pub kind: String,
    /// The signature field's fully qualified name.
    pub field: String,
    /// The revision the signature covers (from 1).
    pub revision: usize,
    /// What it covers: "the whole document" or "revision R of N".
    pub covers: String,
    /// The later revisions and what they changed.
    pub later_changes: Vec<String>,
}

/// Lines of the text report for one PDF signature: kind, field, revision and coverage,
/// its time (the claimed signing time of a signature; the time of a document time-stamp that
/// validated), and the later changes, in Japanese or English.
pub fn place_text(p: &Place, time: Option<&str>, ja: bool) -> String {
    let time_stamp = p.kind == "document time-stamp";
    let kind = match (p.kind.as_str(), ja) {
        ("document time-stamp", true) => "文書タイムスタンプ",
        (_, true) => "PAdES署名",
        (k, false) => k,
    };
    let covers = if !ja {
        p.covers.clone()
    } else if p.covers == "the whole document" {
        "文書全体".into()
    } else if let Some((_, n)) = p.covers.rsplit_once(" of ") {
        format!("全 {n} 版のうち改訂 {} までの版", p.revision)
    } else {
        format!("改訂 {} までの版", p.revision)
    };
    let mut s = if ja {
        format!(
            "     {kind}、項目「{}」、改訂 {}、対象: {covers}\n",
            p.field, p.revision
        )
    } else {
        format!(
            "     {kind}, field {:?}, revision {}, covers {covers}\n",
            p.field, p.revision
        )
    };
    if let Some(t) = time {
        s.push_str(&format!(
            "     {}: {t}\n",
            match (time_stamp, ja) {
                (true, true) => "タイムスタンプの時刻",
                (true, false) => "time-stamped at",
                (false, true) => "署名時刻(申告)",
                (false, false) => "claimed time",
            }
        ));
    }
    for c in p.later_changes.iter().take(20) {
        if ja {
            let c = match c.strip_prefix("revision ").and_then(|r| r.split_once(": ")) {
                Some((n, what)) => format!("改訂 {n}: {}", change_ja(what)),
                None => change_ja(c),
            };
            s.push_str(&format!("     後の変更: {c}\n"));
        } else {
            s.push_str(&format!("     later change: {c}\n"));
        }
    }
    s
}

/// What a later revision changed (the words of `pdf::Context::classify` and its helpers) in
/// Japanese; a text it does not know is returned as it is.
pub(crate) fn change_ja(what: &str) -> String {
    // (English with `{}` for each detail, Japanese with the details in the same order),
    // longer forms before their prefixes.
    const T: [(&str, &str); 31] = [
        (
            "{} bytes after the last complete revision (%%EOF) that no signature covers",
            "最後の完全な改訂(%%EOF)の後に、どの署名の対象でもない {} バイト",
        ),
        (
            "its cross-reference section cannot be read",
            "相互参照表を読み取れません",
        ),
        (
            "the document catalog was replaced by another object",
            "文書カタログが別のオブジェクトに置き換えられました",
        ),
        (
            "{} objects rewritten (too many to compare)",
            "{} 個のオブジェクトが書き換えられました(多すぎて比較できません)",
        ),
        (
            "object {} cannot be read: {}",
            "オブジェクト {} を読み取れません: {}",
        ),
        ("object {} was deleted", "オブジェクト {} が削除されました"),
        (
            "the document security store (DSS) was updated",
            "検証情報の格納場所 (DSS) が更新されました",
        ),
        (
            "the document information dictionary was updated",
            "文書情報辞書が更新されました",
        ),
        (
            "the XMP metadata was updated",
            "XMP メタデータが更新されました",
        ),
        (
            "the stream object {} was replaced (page content, image, font or form)",
            "ストリームオブジェクト {} が置き換えられました(ページ内容・画像・フォント・フォームのいずれか)",
        ),
        (
            "the catalog gained or updated its DSS, extensions or form",
            "文書カタログに DSS・拡張・フォームが追加または更新されました",
        ),
        (
            "the document catalog was changed ({})",
            "文書カタログが変更されました({})",
        ),
        (
            "page object {} was changed ({})",
            "ページオブジェクト {} が変更されました({})",
        ),
        (
            "the value of signature field object {} was replaced",
            "署名フィールド(オブジェクト {})の値が置き換えられました",
        ),
        (
            "a signature was added to an empty signature field",
            "空の署名フィールドに署名が追加されました",
        ),
        (
            "signature field object {} was changed ({})",
            "署名フィールド(オブジェクト {})が変更されました({})",
        ),
        (
            "form field object {} was filled in",
            "フォームフィールド(オブジェクト {})に入力されました",
        ),
        (
            "form field object {} was changed ({})",
            "フォームフィールド(オブジェクト {})が変更されました({})",
        ),
        (
            "annotation object {} was changed",
            "注釈(オブジェクト {})が変更されました",
        ),
        (
            "object {} was changed ({})",
            "オブジェクト {} が変更されました({})",
        ),
        ("object {} was changed", "オブジェクト {} が変更されました"),
        (
            "the interactive form dictionary was changed",
            "対話型フォーム辞書が変更されました",
        ),
        (
            "form fields were removed",
            "フォームフィールドが削除されました",
        ),
        (
            "the form's signature flags were updated",
            "フォームの署名フラグが更新されました",
        ),
        (
            "array object {} was changed",
            "配列オブジェクト {} が変更されました",
        ),
        (
            "annotations or fields were removed (object {})",
            "注釈またはフィールドが削除されました(オブジェクト {})",
        ),
        (
            "a document time-stamp was added",
            "文書タイムスタンプが追加されました",
        ),
        (
            "a new field reuses an existing signature value ({})",
            "新しいフィールドが既存の署名の値を再利用しています({})",
        ),
        (
            "a new signature field was added",
            "新しい署名フィールドが追加されました",
        ),
        (
            "a new form field was added",
            "新しいフォームフィールドが追加されました",
        ),
        ("{} were added", "{} が追加されました"),
    ];
    for (en, ja) in T {
        if let Some(details) = holes(en, what) {
            let mut out = String::new();
            let mut parts = ja.split("{}");
            out.push_str(parts.next().unwrap_or(""));
            for (d, part) in details.iter().zip(parts) {
                out.push_str(&words_ja(d));
                out.push_str(part);
            }
            return out;
        }
    }
    match what {
        "form fields reordered" => "フォームフィールドの順序が変わりました".into(),
        "annotations reordered" => "注釈の順序が変わりました".into(),
        other => other.to_owned(),
    }
}

/// The two collections the change texts name, in Japanese; anything else as it is.
pub(crate) fn words_ja(s: &str) -> String {
    match s {
        "form fields" => "フォームフィールド".into(),
        "annotations" => "注釈".into(),
        other => other.to_owned(),
    }
}

/// The details that fill the `{}` of `template` to make `s`, or `None` when `s` is not of
/// that form.
fn holes<'s>(template: &str, s: &'s str) -> Option<Vec<&'s str>> {
    let mut pieces = template.split("{}");
    let mut rest = s.strip_prefix(pieces.next()?)?;
    let pieces: Vec<&str> = pieces.collect();
    let mut out = Vec::new();
    for (i, piece) in pieces.iter().enumerate() {
        if i + 1 == pieces.len() {
            out.push(rest.strip_suffix(piece)?);
            rest = "";
        } else {
            let at = rest.find(piece)?;
            out.push(&rest[..at]);
            rest = &rest[at + piece.len()..];
        }
    }
    (rest.is_empty() && out.iter().all(|d| !d.is_empty())).then_some(out)
}
