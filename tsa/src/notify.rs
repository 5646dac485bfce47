//! systemd readiness notification (`sd_notify(3)` protocol, without libsystemd): when the
//! service manager sets `NOTIFY_SOCKET`, the TSA sends `READY=1` once it listens,
//! `RELOADING=1` then `READY=1` around a SIGHUP reload, and `STOPPING=1` at shutdown, each as
//! one datagram on that Unix socket (a name starting with `@` is in the abstract namespace).
//! This is what `Type=notify` in a unit file waits for (see `docs/operations.md`).

use std::os::unix::net::UnixDatagram;

/// Where readiness goes; [`Notifier::none`] when not run under systemd.
#[derive(Debug)]
pub struct Notifier {
    target: Option<Target>,
}

#[derive(Debug)]
enum Target {
    Path(std::path::PathBuf),
    Abstract(Vec<u8>),
}

impl Notifier {
    /// No notifications.
    pub fn none() -> Self {
        Self { target: None }
    }

    /// The notifier for a `NOTIFY_SOCKET` value (`None` or empty: no notifications).
    pub fn from_socket(value: Option<&std::ffi::OsStr>) -> Self {
        use std::os::unix::ffi::OsStrExt as _;
        let target = value.filter(|v| !v.is_empty()).map(|v| {
            let b = v.as_bytes();
            match b.strip_prefix(b"@") {
                Some(name) => Target::Abstract(name.to_vec()),
                None => Target::Path(v.into()),
            }
        });
        Self { target }
    }

    /// Whether notifications are sent.
    pub fn enabled(&self) -> bool {
        self.target.is_some()
    }

    /// Sends `state` (newline-separated `KEY=VALUE` assignments, e.g. `READY=1`). Errors are
    /// returned for the caller to log; a TSA never stops because its supervisor went away.
    pub fn notify(&self, state: &str) -> std::io::Result<()> {
        let Some(target) = &self.target else {
            return Ok(());
        };
        let sock = UnixDatagram::unbound()?;
        // Never wait for the supervisor: a full queue on its side is an error to log, not a
        // reason to stall the TSA (the main task sends these).
        sock.set_nonblocking(true)?;
        match target {
            Target::Path(p) => sock.send_to(state.as_bytes(), p)?,
            Target::Abstract(name) => {
                use std::os::linux::net::SocketAddrExt as _;
                let addr = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
                sock.send_to_addr(state.as_bytes(), &addr)?
            }
        };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sends_to_a_path_and_an_abstract_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify.sock");
        let rx = UnixDatagram::bind(&path).unwrap();
        let n = Notifier::from_socket(Some(path.as_os_str()));
        assert!(n.enabled());
        n.notify("READY=1\nSTATUS=issuing").unwrap();
        let mut buf = [0u8; 64];
        let len = rx.recv(&mut buf).unwrap();
        assert_eq!(&buf[..len], b"READY=1\nSTATUS=issuing");

        use std::os::linux::net::SocketAddrExt as _;
        let name = format!("inkan-tsa-test-{}", std::process::id());
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let rx = UnixDatagram::bind_addr(&addr).unwrap();
        let n = Notifier::from_socket(Some(std::ffi::OsStr::new(&format!("@{name}"))));
        n.notify("STOPPING=1").unwrap();
        let len = rx.recv(&mut buf).unwrap();
        assert_eq!(&buf[..len], b"STOPPING=1");
    }

    #[test]
    fn unset_or_empty_sends_nothing() {
        assert!(!Notifier::from_socket(None).enabled());
        assert!(!Notifier::from_socket(Some(std::ffi::OsStr::new(""))).enabled());
        Notifier::none().notify("READY=1").unwrap();
    }
}
