//! [`FakeChronyd`]: a scripted chronyd command socket, for what a real chronyd cannot be made to do
//! (see [`crate::wire`] for the bytes). It answers each request with the datagrams its script
//! returns (none: silence), in a thread of its own, and records every request it received.

use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The requests a fake received, with their arrival times.
pub type Received = Vec<(Instant, Vec<u8>)>;

/// A fake chronyd on a unix datagram socket `DIR/chronyd.sock`, in a new directory under the temp
/// dir or in one given. Dropping it stops the thread and removes the directory it made (or the
/// socket, in a directory given).
#[derive(Debug)]
pub struct FakeChronyd {
    dir: PathBuf,
    /// Made by `start` (and removed on drop), not given to `start_in`.
    owns_dir: bool,
    path: PathBuf,
    thread: Option<JoinHandle<Received>>,
    stop: mpsc::Sender<()>,
}

impl FakeChronyd {
    /// Starts serving: each request gets the datagrams `script` returns for it, in order.
    pub fn start(mut script: impl FnMut(&[u8]) -> Vec<Vec<u8>> + Send + 'static) -> FakeChronyd {
        FakeChronyd::start_with_sender(move |request, _| script(request))
    }

    /// Like [`FakeChronyd::start`], the script also seeing the path the request came from (the
    /// client's bound socket).
    pub fn start_with_sender(
        script: impl FnMut(&[u8], &Path) -> Vec<Vec<u8>> + Send + 'static,
    ) -> FakeChronyd {
        let dir = crate::tmpdir::make("fake", 0o755).expect("a directory for the fake chronyd");
        let mut fake = FakeChronyd::serve(dir, script);
        fake.owns_dir = true;
        fake
    }

    /// Like [`FakeChronyd::start`] with the socket in `dir` (which the test prepared, and which
    /// is kept on drop).
    pub fn start_in(
        dir: &Path,
        mut script: impl FnMut(&[u8]) -> Vec<Vec<u8>> + Send + 'static,
    ) -> FakeChronyd {
        FakeChronyd::serve(dir.to_owned(), move |request, _| script(request))
    }

    fn serve(
        dir: PathBuf,
        mut script: impl FnMut(&[u8], &Path) -> Vec<Vec<u8>> + Send + 'static,
    ) -> FakeChronyd {
        let path = dir.join("chronyd.sock");
        let server = UnixDatagram::bind(&path).expect("bind the fake chronyd's socket");
        server
            .set_read_timeout(Some(Duration::from_millis(20)))
            .expect("a read timeout");
        let (stop, stopped) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            let mut requests = Vec::new();
            let mut buf = [0u8; 2048];
            while stopped.try_recv().is_err() {
                let Ok((n, from)) = server.recv_from(&mut buf) else {
                    continue;
                };
                requests.push((Instant::now(), buf[..n].to_vec()));
                let Some(to) = from.as_pathname().map(Path::to_owned) else {
                    continue; // an unbound sender cannot be answered
                };
                for datagram in script(&buf[..n], &to) {
                    if server.send_to(&datagram, &to).is_err() {
                        break; // the client is gone or not reading
                    }
                }
            }
            requests
        });
        FakeChronyd {
            dir,
            owns_dir: false,
            path,
            thread: Some(thread),
            stop,
        }
    }

    /// The directory holding the socket (clients create theirs here too).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The socket path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The socket path as text, for APIs that take an address.
    pub fn address(&self) -> &str {
        self.path.to_str().expect("a UTF-8 temp dir")
    }

    /// Stops serving and returns every request received.
    pub fn join(mut self) -> Received {
        let _ = self.stop.send(());
        self.thread
            .take()
            .expect("joined once")
            .join()
            .expect("the fake's thread")
    }
}

impl Drop for FakeChronyd {
    fn drop(&mut self) {
        let _ = self.stop.send(());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        if self.owns_dir {
            let _ = std::fs::remove_dir_all(&self.dir);
        } else {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
