//! The vault's cryptography: the identity and the keys derived from it (trailer MAC), slot
//! wrapping (XChaCha20-Poly1305 under a passphrase- or keyring-derived key), the age body, and
//! key fingerprints. No file access here.

use std::io::Write;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use age::secrecy::{ExposeSecret, SecretString};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::agebody::Sealed;
use crate::secret::WipedBytes;

use crate::error::{Error, Result};
use crate::format::{self, KeyringSlot, KeyringStore, PassphraseSlot, Slot};
use crate::kdf::{KdfParams, SALT_LEN};
use crate::model::{Body, BODY_FORMAT};
use crate::par;

/// The identity with its derived keys.
pub(super) struct Keys {
    pub(super) identity: age::x25519::Identity,
    pub(super) identity_str: SecretString,
    /// The public recipient, found once (an X25519 multiplication each time otherwise; an
    /// open compares it with the header's more than once).
    recipient: String,
}

impl Keys {
    fn new(identity: age::x25519::Identity) -> Keys {
        Keys {
            identity_str: identity.to_string(),
            recipient: identity.to_public().to_string(),
            identity,
        }
    }
    pub(super) fn from_str(s: &SecretString) -> Result<Keys> {
        let identity = age::x25519::Identity::from_str(s.expose_secret().trim())
            .map_err(|_| Error::WrongIdentity)?;
        Ok(Keys::new(identity))
    }
    pub(super) fn generate() -> Keys {
        Keys::new(age::x25519::Identity::generate())
    }
    pub(super) fn recipient(&self) -> &str {
        &self.recipient
    }
    /// The trailer MAC's keyed state for a file of `version`: HKDF-SHA256(salt = vault_id,
    /// ikm = the identity string, info naming the version), so that no MAC of one version
    /// stands for the other's.
    fn mac(&self, vault_id: &[u8], version: u8) -> Hmac<Sha256> {
        let info: &[u8] = if version == format::VERSION_1 {
            b"vault/v1 trailer mac"
        } else {
            b"vault/v2 trailer mac"
        };
        let hk =
            hkdf::Hkdf::<Sha256>::new(Some(vault_id), self.identity_str.expose_secret().as_bytes());
        let mut k = Zeroizing::new([0u8; 32]);
        hk.expand(info, k.as_mut())
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        <Hmac<Sha256> as Mac>::new_from_slice(k.as_ref()).expect("HMAC takes any key length")
    }
    /// A format-2 trailer's MAC, fed: HMAC-SHA256 of the digest of `prefix` (the vault header
    /// and the body's length) and the age body's header and tags ([`Sealed::tags_digest`]).
    fn trailer_mac(&self, vault_id: &[u8], prefix: &[u8], body: &Sealed<'_>) -> Hmac<Sha256> {
        let mut m = self.mac(vault_id, format::VERSION);
        m.update(&body.tags_digest(prefix));
        m
    }
    /// The trailer of a file this build writes (format 2), for the age `body` after `prefix`.
    pub(super) fn trailer(&self, vault_id: &[u8], prefix: &[u8], body: &[u8]) -> [u8; 32] {
        // Our own freshly sealed body always parses; were it ever not to, a MAC of zeros
        // fails the write's own check, and nothing is renamed over the vault.
        match Sealed::parse(body) {
            Some(sealed) => self
                .trailer_mac(vault_id, prefix, &sealed)
                .finalize()
                .into_bytes()
                .into(),
            None => [0; 32],
        }
    }
}

pub(super) fn random<const N: usize>() -> Result<[u8; N]> {
    let mut b = [0u8; N];
    crate::secret::fill_random(&mut b)?;
    Ok(b)
}

pub(super) fn wrap(
    kek: &[u8; 32],
    nonce: &[u8; 24],
    aad: &[u8],
    identity: &SecretString,
) -> Result<Vec<u8>> {
    XChaCha20Poly1305::new(kek.into())
        .encrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: identity.expose_secret().as_bytes(),
                aad,
            },
        )
        .map_err(|_| Error::Crypto("XChaCha20-Poly1305 encryption failed"))
}

pub(super) fn unwrap(
    kek: &[u8; 32],
    nonce: &[u8; 24],
    aad: &[u8],
    ct: &[u8],
) -> Option<SecretString> {
    let pt = Zeroizing::new(
        XChaCha20Poly1305::new(kek.into())
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad })
            .ok()?,
    );
    let s = std::str::from_utf8(&pt).ok()?;
    Some(SecretString::from(s.to_string()))
}

pub(super) fn passphrase_slot(
    vault_id: &[u8; 16],
    pass: &SecretString,
    params: KdfParams,
    identity: &SecretString,
    memory_available_kib: Option<u64>,
) -> Result<Slot> {
    params.check_floor()?;
    params.check_fits(memory_available_kib)?;
    let salt = random::<SALT_LEN>()?;
    let nonce = random::<24>()?;
    let kek = params.derive(pass.expose_secret().as_bytes(), &salt)?;
    let mut slot = Slot::Passphrase(PassphraseSlot {
        params,
        salt,
        nonce,
        ciphertext: vec![],
    });
    let ct = wrap(&kek, &nonce, &format::slot_aad(vault_id, &slot), identity)?;
    if let Slot::Passphrase(p) = &mut slot {
        p.ciphertext = ct;
    }
    Ok(slot)
}

pub(super) fn keyring_slot(
    vault_id: &[u8; 16],
    store: KeyringStore,
    key: &[u8; 32],
    identity: &SecretString,
) -> Result<Slot> {
    let nonce = random::<24>()?;
    let mut slot = Slot::Keyring(KeyringSlot {
        store,
        nonce,
        ciphertext: vec![],
    });
    let ct = wrap(key, &nonce, &format::slot_aad(vault_id, &slot), identity)?;
    if let Slot::Keyring(k) = &mut slot {
        k.ciphertext = ct;
    }
    Ok(slot)
}

/// The body's text as it was encrypted, in the pieces it was written in (zeroizing).
pub(super) struct Plaintext(Vec<WipedBytes>);

impl Plaintext {
    /// Whether `text` is exactly this text.
    pub(super) fn is(&self, text: &[u8]) -> bool {
        self.0
            .iter()
            .try_fold(text, |rest, piece| rest.strip_prefix(&piece[..]))
            .is_some_and(<[u8]>::is_empty)
    }
}

/// How much text one piece holds: age's chunk size, so a piece is encrypted as it arrives.
const PIECE: usize = 64 * 1024;

/// Writes the body's JSON in pieces of [`PIECE`] bytes, each handed to `sink` when full (and
/// the last when done). Pieces are zeroizing and never reallocated, so no copy of the text is
/// left behind in freed memory.
struct Pieces<F: FnMut(WipedBytes)> {
    piece: WipedBytes,
    sink: F,
}

impl<F: FnMut(WipedBytes)> Pieces<F> {
    #[cold]
    fn fill(&mut self, mut b: &[u8]) {
        while !b.is_empty() {
            let room = PIECE - self.piece.len();
            let (now, later) = b.split_at(room.min(b.len()));
            self.piece.extend_from_slice(now);
            b = later;
            if self.piece.len() == PIECE {
                let full = std::mem::replace(&mut self.piece, WipedBytes::with_capacity(PIECE));
                (self.sink)(full);
            }
        }
    }
    fn done(mut self) {
        let last = std::mem::take(&mut self.piece);
        (self.sink)(last);
    }
}

impl<F: FnMut(WipedBytes)> Write for Pieces<F> {
    // serde_json writes many pieces of a few bytes: the common case (room left) inline.
    #[inline]
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        if self.piece.len() + b.len() < PIECE {
            self.piece.extend_from_slice(b);
        } else {
            self.fill(b);
        }
        Ok(b.len())
    }
    #[inline]
    fn write_all(&mut self, b: &[u8]) -> std::io::Result<()> {
        self.write(b).map(|_| ())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Serializes the body and age-encrypts it to the vault's identity, appending the ciphertext
/// to `out`; returns the text that was encrypted. On a large body the two run side by side:
/// this thread writes the JSON in 64 KiB pieces while a second encrypts each piece as it comes
/// (age's chunk size), so encryption costs little more than the serialization.
pub(super) fn seal_body(keys: &Keys, body: &Body, out: &mut Vec<u8>) -> Result<Plaintext> {
    let failed = || Error::Crypto("age encryption failed");
    let recipient = keys.identity.to_public();
    let (tx, rx) = std::sync::mpsc::channel::<WipedBytes>();
    // The pieces go through a channel that never blocks the writer, so when no second thread
    // can be had the writer runs first and the encryption after it, here.
    let encrypt = move || -> Result<Plaintext> {
        let enc =
            age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
                .map_err(|_| failed())?;
        let mut w = enc.wrap_output(out).map_err(|_| failed())?;
        let mut kept = Vec::new();
        for piece in rx {
            w.write_all(&piece).map_err(|_| failed())?;
            kept.push(piece);
        }
        w.finish().map_err(|_| failed())?;
        Ok(Plaintext(kept))
    };
    let serialize = move || -> Result<()> {
        let mut w = Pieces {
            piece: WipedBytes::with_capacity(PIECE),
            // A send fails only once the encryption has failed, which is reported instead.
            sink: |piece| {
                let _ = tx.send(piece);
            },
        };
        let written = crate::fastbody::write_body(body, &mut w);
        if written.is_ok() {
            w.done();
        }
        // The last sender gone ends the encryption's loop, whatever happened.
        drop(tx);
        written.map_err(|e| Error::InvalidInput(e.to_string()))
    };
    // On one thread `join` runs the writer first, and the encryption then finds every piece.
    let big = body_text_estimate(body.bots.len()) >= par::WORTH_A_THREAD;
    let (sealed, written) = par::join(big, encrypt, serialize);
    written?;
    sealed
}

/// About how long the JSON of a body with `bots` bots is: a Binance-shaped bot is ~640
/// bytes, with room for a longer secret or a little history.
fn body_text_estimate(bots: usize) -> usize {
    4096 + 768 * bots
}

/// Room for the ciphertext of a body with `bots` bots: its text, 16 bytes of tag per 64 KiB
/// chunk and age's header. Only an estimate: the buffer grows if the body is larger.
pub(super) fn sealed_capacity(bots: usize) -> usize {
    let text = body_text_estimate(bots);
    text + 16 * (text / PIECE + 1) + 1024
}

/// Checks the file and decrypts and parses its body: the checksum, when `checksum` is given
/// (a file from [`super::VaultFile::read_to_unlock`]; recorded there), the trailer MAC over
/// the exact bytes read, and every chunk of the age body against its tag. Nothing parsed
/// leaves here unless all hold; a checksum that fails is reported before anything else.
///
/// A format-2 file is checked before anything is decrypted. A format-1 file's checks are two
/// hashes of the whole file, run beside the decryption ([`open_format_1`]), so its body is
/// parsed before the MAC's verdict is in. An age body can be made by anyone who knows the
/// recipient (it is in the header), so what is parsed there may be a forger's: it goes only to
/// the JSON parser, the same one the fuzz targets feed arbitrary bytes, with nothing done on
/// its content, and is dropped (its secrets wiped) when the MAC fails.
pub(super) fn open_with(
    keys: &Keys,
    parsed: &format::Parsed<'_>,
    checksum: Option<&OnceLock<bool>>,
) -> Result<Body> {
    if parsed.version == format::VERSION_1 {
        return open_format_1(keys, parsed, checksum);
    }
    // Format 2: the checksum (a CRC-32) and the MAC (of the headers and the chunks' tags)
    // take microseconds, so both come first, in that order; then every chunk is checked
    // against its tag as it is decrypted, before the text is parsed.
    if !checksum_holds(checksum, parsed) {
        return Err(format::CHECKSUM_MISMATCH);
    }
    checked_body(parse_text(&verified_plaintext(keys, parsed)?)?)
}

/// Whether the checksum holds: found and recorded in `checksum` when it is still to be found
/// there (`None`: already checked).
fn checksum_holds(checksum: Option<&OnceLock<bool>>, parsed: &format::Parsed<'_>) -> bool {
    checksum.is_none_or(|c| *c.get_or_init(|| format::checksum_holds(parsed.whole)))
}

/// The body's text parsed: UTF-8 is checked once for the whole text, so the parser does not
/// check every string again.
fn parse_text(pt: &[u8]) -> Result<Body> {
    let text = std::str::from_utf8(pt).map_err(|_| Error::Tampered)?;
    crate::fastbody::parse_body(text).map_err(|_| Error::Tampered)
}

fn checked_body(body: Body) -> Result<Body> {
    if body.format != BODY_FORMAT {
        return Err(Error::UnsupportedVersion(
            u8::try_from(body.format).unwrap_or(u8::MAX),
        ));
    }
    Ok(body)
}

/// A format-1 file: its checksum (SHA-256) and MAC (HMAC of every byte) are two passes over
/// the file, so they go to whichever thread takes each first: the second thread takes them
/// as soon as it starts; this one takes what is left once the body is parsed. A second
/// thread that starts late (some kernels queue it behind this one for milliseconds) then
/// costs a check done here instead of a wait for it.
fn open_format_1(
    keys: &Keys,
    parsed: &format::Parsed<'_>,
    checksum: Option<&OnceLock<bool>>,
) -> Result<Body> {
    let sum_taken = AtomicBool::new(false);
    let mac_taken = AtomicBool::new(false);
    let take = |flag: &AtomicBool| !flag.swap(true, Ordering::AcqRel);
    let checks = || -> [Option<bool>; 2] {
        [
            take(&sum_taken).then(|| checksum_holds(checksum, parsed)),
            take(&mac_taken).then(|| format_1_mac(keys, parsed).is_ok()),
        ]
    };
    let open = || -> (Result<Body>, [Option<bool>; 2]) {
        let body = decrypt(keys, parsed).and_then(|pt| parse_text(&pt));
        (body, checks())
    };
    let (theirs, (body, mine)) = par::join(parsed.body.len() >= par::WORTH_A_THREAD, checks, open);
    // Each check ran on exactly one thread; a damaged file is reported before anything else.
    let held = |i: usize| theirs[i].or(mine[i]).unwrap_or(false);
    if !held(0) {
        return Err(format::CHECKSUM_MISMATCH);
    }
    if !held(1) {
        return Err(Error::Tampered);
    }
    checked_body(body?)
}

/// A format-1 file's recipient and trailer MAC (of every byte before it): `Tampered` unless
/// both are this vault's.
fn format_1_mac(keys: &Keys, parsed: &format::Parsed<'_>) -> Result<()> {
    if keys.recipient() != parsed.header.recipient {
        return Err(Error::Tampered);
    }
    let mut mac = keys.mac(&parsed.header.vault_id, format::VERSION_1);
    mac.update(parsed.mac_input);
    mac.verify_slice(parsed.mac).map_err(|_| Error::Tampered)
}

/// A format-2 file's body: the age body parsed once, the recipient and the trailer MAC (of
/// its header and tags) checked, then every chunk decrypted against its tag. `Tampered`
/// unless all hold.
fn verified_plaintext(keys: &Keys, parsed: &format::Parsed<'_>) -> Result<WipedBytes> {
    let sealed = Sealed::parse(parsed.body).ok_or(Error::Tampered)?;
    if keys.recipient() != parsed.header.recipient {
        return Err(Error::Tampered);
    }
    keys.trailer_mac(&parsed.header.vault_id, parsed.prefix(), &sealed)
        .verify_slice(parsed.mac)
        .map_err(|_| Error::Tampered)?;
    sealed.open(&keys.identity)
}

/// Decrypts the whole age body (its final chunk verified) into zeroizing memory, in one pass
/// (`agebody`). age authenticates every chunk, but not who wrote them: that is the trailer
/// MAC's job.
fn decrypt(keys: &Keys, parsed: &format::Parsed<'_>) -> Result<WipedBytes> {
    super::agebody::decrypt(&keys.identity, parsed.body)
}

/// Verifies the recipient and the trailer MAC, then decrypts the whole body; nothing is
/// returned unless both hold. (The write's own check: its files are format 2, whose MAC
/// takes microseconds.)
pub(super) fn decrypt_verified(keys: &Keys, parsed: &format::Parsed<'_>) -> Result<WipedBytes> {
    if parsed.version == format::VERSION_1 {
        format_1_mac(keys, parsed)?;
        return decrypt(keys, parsed);
    }
    verified_plaintext(keys, parsed)
}

/// Parses an age identity file: the first `AGE-SECRET-KEY-1` line, comments allowed.
pub fn parse_identity_file(bytes: &[u8]) -> Result<SecretString> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| Error::InvalidInput("the identity file is not text".into()))?;
    text.lines()
        .map(str::trim)
        .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
        .map(|l| SecretString::from(l.to_string()))
        .ok_or_else(|| {
            Error::InvalidInput(
                "no AGE-SECRET-KEY-1 line in the identity file (is it an age identity file?)"
                    .into(),
            )
        })
}

pub(super) fn fingerprint(body: &Body, api_key: &str) -> String {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(body.fingerprint_key.expose().as_bytes())
        .expect("HMAC takes any key length");
    m.update(api_key.as_bytes());
    hex::encode(m.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// 1, 2, 3, ... (wrapping) for `len` bytes: text whose every position is told apart.
    fn counting(len: usize) -> Vec<u8> {
        (1..=len).map(|i| i as u8).collect()
    }

    /// `counting(total)` written through `Pieces` in writes of the given sizes.
    fn pieces_of(writes: &[usize]) -> Plaintext {
        let text = counting(writes.iter().sum());
        let mut out = Vec::new();
        let mut w = Pieces {
            piece: WipedBytes::with_capacity(PIECE),
            sink: |p| out.push(p),
        };
        let mut at = 0;
        for &len in writes {
            w.write_all(&text[at..at + len]).expect("write");
            at += len;
        }
        w.done();
        Plaintext(out)
    }

    #[test]
    fn pieces_hold_exactly_what_was_written_in_full_64_kib_pieces() {
        // Writes that end a piece exactly, cross one, and are larger than one.
        for writes in [
            vec![],
            vec![1],
            vec![PIECE],
            vec![PIECE - 1, 1, 1],
            vec![3, PIECE * 2 + 5, 7],
            vec![PIECE / 2; 9],
        ] {
            let p = pieces_of(&writes);
            assert!(p.is(&counting(writes.iter().sum())), "{writes:?}");
            // Every piece but the last is full.
            let (last, full) = p.0.split_last().expect("at least the last piece");
            assert!(full.iter().all(|f| f.len() == PIECE), "{writes:?}");
            assert!(last.len() <= PIECE);
        }
    }

    #[test]
    fn plaintext_is_refuses_any_other_text() {
        let p = pieces_of(&[PIECE + 10]);
        let good = counting(PIECE + 10);
        assert!(p.is(&good));
        assert!(!p.is(&good[..good.len() - 1]), "shorter");
        let mut longer = good.clone();
        longer.push(0);
        assert!(!p.is(&longer), "longer");
        for i in [0, PIECE - 1, PIECE, PIECE + 9] {
            let mut bad = good.clone();
            bad[i] ^= 1;
            assert!(!p.is(&bad), "byte {i}");
        }
    }

    #[test]
    fn a_sealed_body_decrypts_to_its_json_on_one_thread_and_on_two() {
        use std::collections::BTreeMap;
        use std::sync::Arc;
        let keys = Keys::generate();
        for bots in [0usize, 3, 400] {
            let now = jiff::Timestamp::now();
            let mut map = BTreeMap::new();
            for i in 0..bots {
                let name = format!("bot-{i:04}");
                let bot = crate::model::Bot {
                    name: name.clone(),
                    exchange: crate::Exchange::Binance,
                    credentials: None,
                    extra_secrets: BTreeMap::new(),
                    fingerprint: format!("{i:064}"),
                    key_hint: "abcd…wxyz".into(),
                    scope: crate::Scope::default(),
                    env_profile: crate::EnvProfile::Auto,
                    rotate_after_days: 90,
                    created_at: now,
                    key_added_at: now,
                    rotated_at: None,
                    verify: None,
                    status: crate::Status::Active,
                    history: Vec::new(),
                    note: Some("é \" \\ \u{1}".repeat(i % 7)),
                };
                map.insert(name, Arc::new(bot));
            }
            let body = Body {
                format: BODY_FORMAT,
                fingerprint_key: crate::SecretValue::from("f"),
                log_key: crate::SecretValue::from("l"),
                bots: map,
                retired_fingerprints: Vec::new(),
                exported_files: Vec::new(),
                fleet: None,
            };
            let mut out = b"prefix".to_vec();
            let kept = seal_body(&keys, &body, &mut out).expect("seal");
            let json = serde_json::to_vec(&body).expect("json");
            assert!(kept.is(&json), "{bots} bots: kept text");
            let mut pt = Vec::new();
            age::Decryptor::new_buffered(&out[6..])
                .expect("age header")
                .decrypt(std::iter::once(&keys.identity as &dyn age::Identity))
                .expect("decrypt")
                .read_to_end(&mut pt)
                .expect("read");
            assert_eq!(pt, json, "{bots} bots: decrypted text");
            assert_eq!(&out[..6], b"prefix");
        }
    }
}
