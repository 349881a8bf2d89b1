//! Virus scan of uploads through ClamAV's daemon (`clamd`, `INSTREAM` command over TCP), when
//! configured. Without a scanner uploads are only checked for type and size.

use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A `clamd` reachable over TCP.
#[derive(Clone, Debug)]
pub struct VirusScanner {
    address: String,
    timeout: Duration,
}

impl VirusScanner {
    /// A scanner at `host:port` (ClamAV's default port is 3310).
    pub fn new(address: impl Into<String>) -> Self {
        Self {
            address: address.into(),
            timeout: Duration::from_secs(30),
        }
    }

    /// Scans bytes: `Ok` if clean; `Err` with a German reason if infected or if the scanner
    /// cannot be asked (an upload is never accepted unscanned once a scanner is configured).
    pub async fn scan(&self, bytes: &[u8]) -> Result<(), String> {
        match tokio::time::timeout(self.timeout, self.instream(bytes)).await {
            Ok(Ok(answer)) => interpret(&answer),
            Ok(Err(e)) => {
                tracing::error!(error = %e, address = %self.address, "virus scanner unreachable");
                Err("Die Virenprüfung ist gerade nicht erreichbar. Bitte versuchen Sie es später erneut.".into())
            }
            Err(_) => {
                tracing::error!(address = %self.address, "virus scanner timed out");
                Err("Die Virenprüfung hat nicht rechtzeitig geantwortet. Bitte versuchen Sie es später erneut.".into())
            }
        }
    }

    async fn instream(&self, bytes: &[u8]) -> std::io::Result<String> {
        let mut stream = TcpStream::connect(&self.address).await?;
        stream.write_all(b"zINSTREAM\0").await?;
        for chunk in bytes.chunks(64 * 1024) {
            let len = u32::try_from(chunk.len()).unwrap_or(u32::MAX);
            stream.write_all(&len.to_be_bytes()).await?;
            stream.write_all(chunk).await?;
        }
        stream.write_all(&0u32.to_be_bytes()).await?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await?;
        Ok(String::from_utf8_lossy(&answer)
            .trim_end_matches('\0')
            .trim()
            .to_owned())
    }
}

/// `stream: OK` is clean; `stream: NAME FOUND` infected; anything else an error.
fn interpret(answer: &str) -> Result<(), String> {
    if answer.ends_with(" OK") || answer == "OK" {
        Ok(())
    } else if let Some(found) = answer.strip_suffix(" FOUND") {
        let name = found.rsplit(": ").next().unwrap_or(found);
        Err(format!("Schadsoftware erkannt ({name})."))
    } else {
        tracing::error!(answer, "virus scanner answered an error");
        Err("Die Virenprüfung ist fehlgeschlagen. Bitte versuchen Sie es später erneut.".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    /// A peer that speaks clamd's INSTREAM framing and flags the EICAR test string, so the
    /// client's framing is checked byte by byte.
    async fn fake_clamd() -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                let mut cmd = [0u8; 10];
                if s.read_exact(&mut cmd).await.is_err() || &cmd != b"zINSTREAM\0" {
                    let _ = s.write_all(b"UNKNOWN COMMAND\0").await;
                    continue;
                }
                let mut data = Vec::new();
                loop {
                    let mut len = [0u8; 4];
                    if s.read_exact(&mut len).await.is_err() {
                        break;
                    }
                    let n = u32::from_be_bytes(len) as usize;
                    if n == 0 {
                        break;
                    }
                    let mut chunk = vec![0u8; n];
                    if s.read_exact(&mut chunk).await.is_err() {
                        break;
                    }
                    data.extend(chunk);
                }
                let eicar = b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE";
                let infected = data.windows(eicar.len()).any(|w| w == eicar);
                let answer: &[u8] = if infected {
                    b"stream: Eicar-Test-Signature FOUND\0"
                } else {
                    b"stream: OK\0"
                };
                let _ = s.write_all(answer).await;
            }
        });
        addr
    }

    #[tokio::test]
    async fn clean_infected_and_unreachable() {
        let scanner = VirusScanner::new(fake_clamd().await);
        assert_eq!(scanner.scan(&vec![b'a'; 200_000]).await, Ok(()));
        let eicar = br"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
        let err = scanner.scan(eicar).await.expect_err("infected");
        assert!(err.contains("Eicar-Test-Signature"), "{err}");
        let gone = VirusScanner::new("127.0.0.1:9");
        assert!(gone.scan(b"x").await.is_err(), "no scanner, no acceptance");
    }
}
