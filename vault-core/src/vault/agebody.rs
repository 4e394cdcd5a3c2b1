//! Reading the age body in one pass, each chunk decrypted in place in the plaintext buffer.
//!
//! age's own reader copies every chunk three times (into its buffer, into a fresh vector per
//! chunk, out to the caller), wipes each copy and clears the caller's buffer before that: on
//! a 2,000-bot vault that was half of the decryption's instructions. Here age parses and
//! checks the header, age's stanza parser reads its stanzas, age's own X25519 identity
//! unwraps the file key, and this module checks what c2sp.org/age specifies, in order:
//! - the header MAC: HMAC-SHA256 under HKDF-SHA256(file key, info "header") over the header
//!   up to and including `---`;
//! - every chunk of the payload: ChaCha20-Poly1305 under HKDF-SHA256(salt = the 16-byte
//!   nonce, file key, info "payload"), the nonce an 11-byte big-endian counter and a
//!   last-chunk flag; every chunk full but the last, which is flagged, and empty only when it
//!   is the only one.
//!
//! A header age does not parse is refused, as age's reader refuses it. Tests hold this module
//! and age's reader to the same verdict and the same bytes, on good bodies at every chunk
//! boundary and on damaged, cut and foreign ones. Like age's reader, this says
//! the body was sealed to this identity, not who sealed it: that is the trailer MAC's job,
//! checked beside this, and nothing decrypted here is used before it holds.

use age::secrecy::ExposeSecret;
use age::Identity;
use chacha20poly1305::aead::AeadInPlace;
use chacha20poly1305::{ChaCha20Poly1305, KeyInit};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::secret::WipedBytes;

use crate::error::{Error, Result};

const VERSION_LINE: &[u8] = b"age-encryption.org/v1\n";
/// The header MAC: 32 bytes, 43 characters of unpadded base64.
const B64_32: usize = 43;
const MAC_PREFIX: &[u8] = b"---";
const NONCE_LEN: usize = 16;
const CHUNK: usize = 64 * 1024;
const TAG: usize = 16;
const SEALED_CHUNK: usize = CHUNK + TAG;

/// The body's plaintext. A header that age does not take for a v1 header is refused, as age's
/// own reader refuses it.
pub(super) fn decrypt(identity: &age::x25519::Identity, body: &[u8]) -> Result<WipedBytes> {
    Sealed::parse(body).ok_or(Error::Tampered)?.open(identity)
}

/// An age body taken apart once, as c2sp.org/age lays it out: its header's stanzas and MAC,
/// the nonce, and the payload's chunks. Digested for a format-2 trailer, then opened, without
/// parsing it again.
pub(super) struct Sealed<'a> {
    stanzas: Vec<age_core::format::Stanza>,
    /// The header up to and including `---`: what age's header MAC covers.
    mac_input: &'a [u8],
    /// age's header MAC, as base64.
    mac: &'a [u8],
    nonce: &'a [u8],
    /// Everything before the payload: the header, its MAC line and the nonce.
    head: &'a [u8],
    payload: &'a [u8],
    chunks: usize,
}

impl<'a> Sealed<'a> {
    /// `None` when age does not take the header for a v1 header, or the payload is not a
    /// whole number of chunks as age's STREAM defines them: refused, as by age.
    pub(super) fn parse(body: &'a [u8]) -> Option<Sealed<'a>> {
        // age parses the header and checks its structure; what it leaves is the payload.
        let mut rest = body;
        age::Decryptor::new_buffered(&mut rest).ok()?;
        let payload_at = body.len() - rest.len();
        let header = body.get(..payload_at.checked_sub(NONCE_LEN)?)?;
        // The stanzas, with age's own stanza parser (age adds a random "grease" stanza to
        // every header). age has just parsed this header, so none of the steps below can fail
        // for a header it took; they are written to give up rather than to assume.
        let mut stanzas = Vec::new();
        let mut r = header.strip_prefix(VERSION_LINE)?;
        while !r.starts_with(MAC_PREFIX) {
            let Ok((next, stanza)) = age_core::format::read::legacy_age_stanza(r) else {
                return None;
            };
            stanzas.push(age_core::format::Stanza::from(stanza));
            r = next;
        }
        // "--- ", the MAC's 43 characters and a newline end the header.
        let mac_line = r.strip_prefix(MAC_PREFIX)?.strip_prefix(b" ")?;
        let mac = mac_line.strip_suffix(b"\n").filter(|m| m.len() == B64_32)?;
        Some(Sealed {
            stanzas,
            mac_input: &header[..header.len() - (mac_line.len() + 1)],
            mac,
            nonce: &body[header.len()..payload_at],
            head: &body[..payload_at],
            payload: rest,
            chunks: chunk_count(rest.len()).ok()?,
        })
    }

    /// What a format-2 trailer MAC is of: SHA-256 of `prefix` (the vault header and the
    /// body's length), the age header with its nonce, and every payload chunk's 16-byte tag,
    /// in order.
    ///
    /// The tags stand for their chunks. Each one authenticates its chunk (ChaCha20-Poly1305)
    /// under a key derived from the file key and the nonce; the age header covered here fixes
    /// the file key, which only the identity unwraps; and [`Sealed::open`] checks every chunk
    /// against its tag before anything of it is used. So a chunk changed without its tag fails
    /// there, and a tag changed fails the MAC.
    pub(super) fn tags_digest(&self, prefix: &[u8]) -> [u8; 32] {
        use sha2::Digest;
        let mut h = Sha256::new();
        Digest::update(&mut h, prefix);
        Digest::update(&mut h, self.head);
        for i in 0..self.chunks {
            let end = self.payload.len().min((i + 1) * SEALED_CHUNK);
            Digest::update(&mut h, &self.payload[end - TAG..end]);
        }
        h.finalize().into()
    }

    /// The file key from the stanzas, the header MAC, then the payload.
    pub(super) fn open(&self, identity: &age::x25519::Identity) -> Result<WipedBytes> {
        let file_key = match identity.unwrap_stanzas(&self.stanzas) {
            Some(Ok(k)) => k,
            _ => return Err(Error::Tampered),
        };
        let file_key = file_key.expose_secret();
        let mut check =
            <Hmac<Sha256> as Mac>::new_from_slice(hkdf(&[], b"header", file_key).as_slice())
                .map_err(|_| Error::Tampered)?;
        check.update(self.mac_input);
        check
            .verify_slice(&b64_32(self.mac)?)
            .map_err(|_| Error::Tampered)?;
        open_stream(
            &hkdf(self.nonce, b"payload", file_key),
            self.payload,
            self.chunks,
        )
    }
}

/// Canonical unpadded base64 of exactly 32 bytes, as age requires.
fn b64_32(text: &[u8]) -> Result<[u8; 32]> {
    use base64::Engine;
    let mut out = [0u8; 32];
    match base64::engine::general_purpose::STANDARD_NO_PAD.decode_slice(text, &mut out) {
        Ok(32) => Ok(out),
        _ => Err(Error::Tampered),
    }
}

fn hkdf(salt: &[u8], info: &[u8], ikm: &[u8]) -> Zeroizing<[u8; 32]> {
    let mut okm = Zeroizing::new([0u8; 32]);
    // 32 bytes is always a valid HKDF-SHA256 output length.
    let _ = Hkdf::<Sha256>::new(Some(salt), ikm).expand(info, okm.as_mut());
    okm
}

/// How many chunks of age's STREAM (64 KiB plus a tag each) a payload of `len` bytes holds.
/// No chunk at all, a last chunk too short for its tag, or an empty last chunk after full
/// ones (only an empty file has an empty chunk): all refused, as by age.
fn chunk_count(len: usize) -> Result<usize> {
    let chunks = len.div_ceil(SEALED_CHUNK);
    let last_len = len
        .checked_sub(chunks.saturating_sub(1) * SEALED_CHUNK)
        .ok_or(Error::Tampered)?;
    if chunks == 0 || last_len < TAG || (chunks > 1 && last_len == TAG) {
        return Err(Error::Tampered);
    }
    Ok(chunks)
}

/// age's STREAM: `chunks` chunks of 64 KiB plus a tag ([`chunk_count`]), each decrypted in
/// place where its plaintext belongs.
fn open_stream(key: &[u8; 32], payload: &[u8], chunks: usize) -> Result<WipedBytes> {
    let aead = ChaCha20Poly1305::new(key.into());
    let mut pt = WipedBytes::with_capacity(payload.len() - chunks * TAG);
    for (i, sealed) in payload.chunks(SEALED_CHUNK).enumerate() {
        let (ct, tag) = sealed.split_at(sealed.len() - TAG);
        let mut nonce = [0u8; 12];
        nonce[3..11].copy_from_slice(&(i as u64).to_be_bytes());
        nonce[11] = u8::from(i + 1 == chunks);
        let start = pt.len();
        pt.extend_from_slice(ct);
        aead.decrypt_in_place_detached(&nonce.into(), &[], &mut pt[start..], tag.into())
            .map_err(|_| Error::Tampered)?;
    }
    Ok(pt)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    fn identity() -> age::x25519::Identity {
        age::x25519::Identity::generate()
    }

    fn seal(to: &age::x25519::Identity, pt: &[u8]) -> Vec<u8> {
        let r = to.to_public();
        let enc = age::Encryptor::with_recipients(std::iter::once(&r as &dyn age::Recipient))
            .expect("test");
        let mut out = Vec::new();
        let mut w = enc.wrap_output(&mut out).expect("test");
        w.write_all(pt).expect("test");
        w.finish().expect("test");
        out
    }

    /// age's own reader: the verdict this module must match.
    fn age_reads(id: &age::x25519::Identity, body: &[u8]) -> Option<Vec<u8>> {
        let dec = age::Decryptor::new_buffered(body).ok()?;
        let mut r = dec
            .decrypt(std::iter::once(id as &dyn age::Identity))
            .ok()?;
        let mut pt = Vec::new();
        r.read_to_end(&mut pt).ok()?;
        Some(pt)
    }

    fn ours(id: &age::x25519::Identity, body: &[u8]) -> Option<Vec<u8>> {
        decrypt(id, body).ok().map(|pt| pt.to_vec())
    }

    fn counting(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i % 251) as u8).collect()
    }

    #[test]
    fn what_age_seals_reads_back_byte_for_byte_at_every_chunk_boundary() {
        let id = identity();
        for len in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK + 5] {
            let pt = counting(len);
            let body = seal(&id, &pt);
            assert_eq!(ours(&id, &body).as_deref(), Some(&pt[..]), "{len} bytes");
            assert_eq!(
                age_reads(&id, &body).as_deref(),
                Some(&pt[..]),
                "{len} bytes"
            );
        }
    }

    #[test]
    fn every_damaged_or_cut_body_is_refused_exactly_when_age_refuses_it() {
        let id = identity();
        let pt = counting(2 * CHUNK + 100);
        let body = seal(&id, &pt);
        let header_end = body.windows(4).position(|w| w == b"\n---").expect("test") + 1;
        let payload = header_end + 4 + B64_32 + 1 + NONCE_LEN;
        // Every header byte and nonce byte, and bytes around each chunk's ends and tags.
        let mut positions: Vec<usize> = (0..payload).collect();
        for c in 0..3 {
            let start = payload + c * SEALED_CHUNK;
            for d in [0, 1, CHUNK - 1, CHUNK, CHUNK + TAG - 1] {
                positions.push(start + d);
            }
        }
        positions.push(body.len() - 1);
        for at in positions.into_iter().filter(|&p| p < body.len()) {
            for bit in [0x01, 0x80] {
                let mut bad = body.clone();
                bad[at] ^= bit;
                let theirs = age_reads(&id, &bad);
                let mine = ours(&id, &bad);
                assert_eq!(mine.is_some(), theirs.is_some(), "byte {at} ^ {bit:#x}");
                assert_eq!(mine, theirs, "byte {at} ^ {bit:#x}");
            }
        }
        // Cut at every chunk boundary (the last-chunk flag is what refuses those), by one
        // byte, to the header alone; and a chunk appended.
        let mut cuts = vec![payload, payload + 1, payload + TAG, body.len() - 1];
        for c in 1..3 {
            cuts.push(payload + c * SEALED_CHUNK);
            cuts.push(payload + c * SEALED_CHUNK + TAG);
        }
        for cut in cuts {
            assert_eq!(ours(&id, &body[..cut]), None, "cut at {cut}");
            assert_eq!(age_reads(&id, &body[..cut]), None, "cut at {cut}");
        }
        let mut longer = body.clone();
        longer.extend_from_slice(&body[payload..payload + SEALED_CHUNK]);
        assert_eq!(ours(&id, &longer), None);
        assert_eq!(age_reads(&id, &longer), None);
    }

    #[test]
    fn another_identity_reads_nothing() {
        let body = seal(&identity(), b"{\"bots\":{}}");
        assert_eq!(ours(&identity(), &body), None);
    }

    #[test]
    fn other_headers_get_ages_verdict() {
        let (a, b) = (identity(), identity());
        let (ra, rb) = (a.to_public(), b.to_public());
        let enc = age::Encryptor::with_recipients(
            [&rb as &dyn age::Recipient, &ra as &dyn age::Recipient].into_iter(),
        )
        .expect("test");
        let mut two = Vec::new();
        let mut w = enc.wrap_output(&mut two).expect("test");
        w.write_all(b"x").expect("test");
        w.finish().expect("test");
        // Two recipients: found by whichever stanza is ours, as age does.
        assert_eq!(ours(&a, &two).as_deref(), Some(&b"x"[..]));
        assert_eq!(age_reads(&a, &two).as_deref(), Some(&b"x"[..]));
        // A passphrase (scrypt) header: no X25519 identity opens it, here or in age.
        let pass = age::Encryptor::with_user_passphrase(age::secrecy::SecretString::from(
            "correct horse".to_string(),
        ));
        let mut scrypt = Vec::new();
        let mut w = pass.wrap_output(&mut scrypt).expect("test");
        w.write_all(b"x").expect("test");
        w.finish().expect("test");
        assert_eq!(ours(&a, &scrypt), None);
        assert_eq!(age_reads(&a, &scrypt), None);
        // Not an age v1 header at all: refused, as age's reader refuses it.
        for junk in [
            &b""[..],
            b"age-encryption.org/v1\n",
            b"BOTVAULT",
            &[0xff; 300],
        ] {
            assert!(Sealed::parse(junk).is_none());
            assert_eq!(ours(&a, junk), None);
            assert_eq!(age_reads(&a, junk), None);
        }
    }
}
