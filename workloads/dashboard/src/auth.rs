//! Who may see the dashboards: users with argon2 password hashes (from a file, e.g. a mounted Secret),
//! or the user named by a trusted header set by an OIDC proxy in front of the app.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

/// `user:$argon2id$...` per line; blank lines and `#` comments are ignored.
#[derive(Clone, Debug, Default)]
pub struct Users {
    hashes: HashMap<String, String>,
}

#[derive(Debug, thiserror::Error)]
pub enum UsersError {
    #[error("cannot read the users file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}, line {line}: {message}")]
    Line {
        path: String,
        line: usize,
        message: String,
    },
}

impl Users {
    pub fn load(path: &Path) -> Result<Users, UsersError> {
        let text = std::fs::read_to_string(path).map_err(|source| UsersError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Users::parse(&text, &path.display().to_string())
    }

    pub fn parse(text: &str, path: &str) -> Result<Users, UsersError> {
        let mut hashes = HashMap::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let err = |message: String| UsersError::Line {
                path: path.to_string(),
                line: i + 1,
                message,
            };
            let (user, hash) = line
                .split_once(':')
                .ok_or_else(|| err("expected `user:argon2-hash`".into()))?;
            let user = user.trim();
            if user.is_empty() {
                return Err(err("empty user name".into()));
            }
            let parsed = PasswordHash::new(hash.trim())
                .map_err(|e| err(format!("not a PHC password hash: {e}")))?;
            if !parsed.algorithm.as_str().starts_with("argon2") {
                return Err(err(format!(
                    "hash algorithm {} is not argon2",
                    parsed.algorithm
                )));
            }
            if hashes
                .insert(user.to_string(), hash.trim().to_string())
                .is_some()
            {
                return Err(err(format!("user {user} is listed twice")));
            }
        }
        Ok(Users { hashes })
    }

    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// True when `password` is the user's. Unknown users cost the same time as known ones.
    pub fn verify(&self, user: &str, password: &str) -> bool {
        // the hash of a random password: an unknown user is not told apart by timing
        static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        let known = self.hashes.get(user);
        let hash = match known {
            Some(h) => h.as_str(),
            None => DECOY.get_or_init(|| hash_password(&hex::encode(rand::random::<[u8; 16]>()))),
        };
        let ok = PasswordHash::new(hash)
            .map(|h| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &h)
                    .is_ok()
            })
            .unwrap_or(false);
        ok && known.is_some()
    }
}

/// An argon2id hash of `password` in PHC format, for the users file.
pub fn hash_password(password: &str) -> String {
    let mut salt = [0u8; 16];
    rand::fill(&mut salt);
    let salt = SaltString::encode_b64(&salt).expect("16 bytes make a valid salt");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 with default parameters")
        .to_string()
}

/// Logged-in sessions: random tokens kept in memory (a restart logs everyone out).
pub struct Sessions {
    ttl: Duration,
    map: Mutex<HashMap<String, (String, Instant)>>,
}

impl Sessions {
    pub fn new(ttl: Duration) -> Sessions {
        Sessions {
            ttl,
            map: Mutex::new(HashMap::new()),
        }
    }

    pub fn open(&self, user: &str) -> String {
        let mut bytes = [0u8; 32];
        rand::fill(&mut bytes);
        let token = hex::encode(bytes);
        let mut map = self.map.lock().expect("sessions lock");
        let now = Instant::now();
        map.retain(|_, (_, at)| now.duration_since(*at) < self.ttl);
        map.insert(token.clone(), (user.to_string(), now));
        token
    }

    pub fn user(&self, token: &str) -> Option<String> {
        let map = self.map.lock().expect("sessions lock");
        map.get(token)
            .filter(|(_, at)| at.elapsed() < self.ttl)
            .map(|(u, _)| u.clone())
    }

    pub fn close(&self, token: &str) {
        self.map.lock().expect("sessions lock").remove(token);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_file_round_trip() {
        let h = hash_password("s3cret");
        let users = Users::parse(&format!("# finance team\nalice:{h}\n\n"), "users").unwrap();
        assert_eq!(users.len(), 1);
        assert!(users.verify("alice", "s3cret"));
        assert!(!users.verify("alice", "S3cret"));
        assert!(!users.verify("bob", "s3cret"));
    }

    #[test]
    fn bad_users_files_name_the_line() {
        for (text, want) in [
            ("alice", "line 1: expected `user:argon2-hash`"),
            ("# x\nalice:plaintext", "line 2: not a PHC password hash"),
            (":x", "line 1: empty user name"),
        ] {
            let e = Users::parse(text, "users.txt").unwrap_err().to_string();
            assert!(e.contains(want) && e.starts_with("users.txt"), "{e}");
        }
        let h = hash_password("x");
        let e = Users::parse(&format!("a:{h}\na:{h}"), "u")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2: user a is listed twice"), "{e}");
    }

    #[test]
    fn sessions_expire_and_close() {
        let s = Sessions::new(Duration::from_secs(60));
        let t = s.open("alice");
        assert_eq!(s.user(&t).as_deref(), Some("alice"));
        assert_eq!(s.user("forged"), None);
        s.close(&t);
        assert_eq!(s.user(&t), None);
        let short = Sessions::new(Duration::from_millis(0));
        let t = short.open("bob");
        assert_eq!(short.user(&t), None);
    }
}
