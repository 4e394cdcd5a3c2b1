//! The vault's cryptography: the identity and the keys derived from it (trailer MAC), slot
//! wrapping (XChaCha20-Poly1305 under a passphrase- or keyring-derived key), the age body, and
//! key fingerprints. No file access here.

use std::io::{Read, Write};
use std::str::FromStr;

use age::secrecy::{ExposeSecret, SecretString};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::format::{self, KeyringSlot, KeyringStore, PassphraseSlot, Slot};
use crate::kdf::{KdfParams, SALT_LEN};
use crate::model::{Body, BODY_FORMAT};
use crate::par;

/// The identity with its derived keys.
pub(super) struct Keys {
    pub(super) identity: age::x25519::Identity,
    pub(super) identity_str: SecretString,
}

impl Keys {
    pub(super) fn from_str(s: &SecretString) -> Result<Keys> {
        let identity = age::x25519::Identity::from_str(s.expose_secret().trim())
            .map_err(|_| Error::WrongIdentity)?;
        Ok(Keys {
            identity_str: identity.to_string(),
            identity,
        })
    }
    pub(super) fn generate() -> Keys {
        let identity = age::x25519::Identity::generate();
        Keys {
            identity_str: identity.to_string(),
            identity,
        }
    }
    pub(super) fn recipient(&self) -> String {
        self.identity.to_public().to_string()
    }
    pub(super) fn mac(&self, vault_id: &[u8]) -> Hmac<Sha256> {
        let hk =
            hkdf::Hkdf::<Sha256>::new(Some(vault_id), self.identity_str.expose_secret().as_bytes());
        let mut k = Zeroizing::new([0u8; 32]);
        hk.expand(b"vault/v1 trailer mac", k.as_mut())
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        <Hmac<Sha256> as Mac>::new_from_slice(k.as_ref()).expect("HMAC takes any key length")
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

/// Serializes the body in one pass into zeroizing memory. The buffer starts at an estimate
/// from the bot count; when it must grow, the text moves to a buffer twice the size and the
/// old one is wiped before it is freed, so no reallocation leaves a copy behind.
pub(super) fn body_plaintext(body: &Body) -> Result<Zeroizing<Vec<u8>>> {
    struct Growing(Zeroizing<Vec<u8>>);
    impl Growing {
        #[cold]
        fn grow(&mut self, need: usize) {
            let mut bigger = Zeroizing::new(Vec::with_capacity(need.max(2 * self.0.capacity())));
            bigger.extend_from_slice(&self.0);
            // The old buffer is zeroized (Zeroizing's drop) as it is replaced.
            self.0 = bigger;
        }
    }
    impl Write for Growing {
        // serde_json writes many pieces of a few bytes: the common case (room left) inline.
        #[inline]
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            let need = self.0.len() + b.len();
            if need > self.0.capacity() {
                self.grow(need);
            }
            self.0.extend_from_slice(b);
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
    let estimate = 4096 + 1024 * body.bots.len();
    let mut w = Growing(Zeroizing::new(Vec::with_capacity(estimate)));
    serde_json::to_writer(&mut w, body).map_err(|e| Error::InvalidInput(e.to_string()))?;
    Ok(w.0)
}

pub(super) fn encrypt_body(keys: &Keys, plaintext: &[u8]) -> Result<Vec<u8>> {
    let recipient = keys.identity.to_public();
    let enc = age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
        .map_err(|_| Error::Crypto("age encryption failed"))?;
    // age adds a 16-byte tag to every 64 KiB chunk and a header of a few hundred bytes: room
    // for all of it, so the ciphertext is never copied to a larger buffer at the end.
    let mut out = Vec::with_capacity(plaintext.len() + 16 * (plaintext.len() / 65536 + 1) + 1024);
    let mut w = enc
        .wrap_output(&mut out)
        .map_err(|_| Error::Crypto("age encryption failed"))?;
    w.write_all(plaintext)
        .and_then(|_| w.finish().map(|_| ()))
        .map_err(|_| Error::Crypto("age encryption failed"))?;
    Ok(out)
}

/// Decrypts and parses the body while a second thread checks the file: first its checksum,
/// when `checksum` is given (a file from [`super::VaultFile::read_to_unlock`]), then the
/// trailer MAC over the exact bytes read. Nothing parsed leaves here unless both hold; a
/// checksum that fails is reported before anything else.
///
/// The body is parsed before the MAC's verdict is in. An age body can be made by anyone who
/// knows the recipient (it is in the header), so what is parsed here may be a forger's: it
/// goes only to the JSON parser, the same one the fuzz targets feed arbitrary bytes, with
/// nothing done on its content, and is dropped (its secrets wiped) when the MAC fails.
pub(super) fn open_with(
    keys: &Keys,
    parsed: &format::Parsed<'_>,
    checksum: Option<&(dyn Fn() -> bool + Sync)>,
) -> Result<Body> {
    let check = || -> Result<()> {
        if checksum.is_some_and(|holds| !holds()) {
            return Err(format::CHECKSUM_MISMATCH);
        }
        mac_verdict(keys, parsed)
    };
    let open = || -> Result<Body> {
        let pt = decrypt(keys, parsed)?;
        // UTF-8 is checked once for the whole text, so the parser does not check every
        // string again.
        let text = std::str::from_utf8(&pt).map_err(|_| Error::Tampered)?;
        serde_json::from_str::<Body>(text).map_err(|_| Error::Tampered)
    };
    let (checked, body) = par::join(parsed.body.len() >= par::WORTH_A_THREAD, check, open);
    checked?;
    let body = body?;
    if body.format != BODY_FORMAT {
        return Err(Error::UnsupportedVersion(
            u8::try_from(body.format).unwrap_or(u8::MAX),
        ));
    }
    Ok(body)
}

/// The recipient and the trailer MAC: `Tampered` unless both are this vault's.
fn mac_verdict(keys: &Keys, parsed: &format::Parsed<'_>) -> Result<()> {
    if keys.recipient() != parsed.header.recipient {
        return Err(Error::Tampered);
    }
    let mut mac = keys.mac(&parsed.header.vault_id);
    mac.update(parsed.mac_input);
    mac.verify_slice(parsed.mac).map_err(|_| Error::Tampered)
}

/// Decrypts the whole age body (its final chunk verified) into zeroizing memory. age
/// authenticates every chunk, but not who wrote them: that is the trailer MAC's job.
fn decrypt(keys: &Keys, parsed: &format::Parsed<'_>) -> Result<Zeroizing<Vec<u8>>> {
    let dec = age::Decryptor::new_buffered(parsed.body).map_err(|_| Error::Tampered)?;
    let mut r = dec
        .decrypt(std::iter::once(&keys.identity as &dyn age::Identity))
        .map_err(|_| Error::Tampered)?;
    let mut pt = Zeroizing::new(Vec::with_capacity(parsed.body.len()));
    r.read_to_end(&mut pt).map_err(|_| Error::Tampered)?;
    Ok(pt)
}

/// Verifies the recipient and the trailer MAC, and decrypts the whole body, the MAC on a
/// second thread while this one decrypts; nothing is returned unless both hold.
pub(super) fn decrypt_verified(
    keys: &Keys,
    parsed: &format::Parsed<'_>,
) -> Result<Zeroizing<Vec<u8>>> {
    let (checked, pt) = par::join(
        parsed.body.len() >= par::WORTH_A_THREAD,
        || mac_verdict(keys, parsed),
        || decrypt(keys, parsed),
    );
    checked?;
    pt
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
