//! The file format, byte by byte (see docs/FORMAT.md). This module owns every byte of the
//! layout and nothing else: no keys are derived here, only bytes parsed and assembled.
//!
//! Parsing keeps the exact bytes it read: the trailer MAC is checked over those bytes, never
//! over a re-serialization. All lengths and counts are bounded before anything is allocated.

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::kdf::{KdfParams, SALT_LEN};

/// The first 8 bytes of every vault file.
pub const MAGIC: &[u8; 8] = b"BOTVAULT";
/// The format version this build writes. It reads this one and [`VERSION_1`].
pub const VERSION: u8 = 2;
/// The first version, still read: its trailer MAC is over the file's bytes themselves and its
/// checksum a SHA-256, where version 2's MAC is over the headers and the age payload's chunk
/// tags and its checksum a CRC-32 (docs/FORMAT.md, "Trailer", "Checksum"). Every write makes
/// a version-2 file.
pub const VERSION_1: u8 = 1;
/// Upper bound on the header fields' length.
pub const MAX_HEADER_LEN: usize = 16 * 1024;
/// Upper bound on the age body's length.
pub const MAX_BODY_LEN: usize = 256 * 1024 * 1024;
/// Upper bound on the number of slots.
pub const MAX_SLOTS: usize = 8;
/// Upper bound on one slot's data.
pub const MAX_SLOT_LEN: usize = 1024;
/// XChaCha20-Poly1305 nonce length.
pub const NONCE_LEN: usize = 24;
/// Length of the vault id.
pub const VAULT_ID_LEN: usize = 16;
/// Length of the trailer MAC (and of a version-1 checksum).
pub const TAG_LEN: usize = 32;

/// The checksum's length: a version-1 file ends with a SHA-256, a version-2 file with a
/// CRC-32 (docs/FORMAT.md, "Checksum").
pub fn checksum_len(version: u8) -> usize {
    if version == VERSION_1 {
        TAG_LEN
    } else {
        4
    }
}

const PREFIX_LEN: usize = 8 + 1 + 4;

/// Slot type byte: passphrase (Argon2id).
pub const SLOT_PASSPHRASE: u8 = 1;
/// Slot type byte: OS keyring wrapping key.
pub const SLOT_KEYRING: u8 = 2;

/// The header fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Random id naming this vault everywhere.
    pub vault_id: [u8; VAULT_ID_LEN],
    /// Grows with every write.
    pub generation: u64,
    /// Number of audit-log entries anchored.
    pub log_count: u64,
    /// The audit log's chain head at the last write.
    pub log_head: [u8; 32],
    /// The age recipient (`age1...`) the body is encrypted to.
    pub recipient: String,
    /// Unlock slots, each wrapping the same identity.
    pub slots: Vec<Slot>,
}

/// One unlock method's wrapped copy of the identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Slot {
    /// Argon2id(passphrase) -> XChaCha20-Poly1305.
    Passphrase(PassphraseSlot),
    /// Random 32-byte key in the OS keyring -> XChaCha20-Poly1305.
    Keyring(KeyringSlot),
}

/// A passphrase slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassphraseSlot {
    /// Argon2id parameters.
    pub params: KdfParams,
    /// Argon2 salt.
    pub salt: [u8; SALT_LEN],
    /// AEAD nonce.
    pub nonce: [u8; NONCE_LEN],
    /// The wrapped identity (with tag).
    pub ciphertext: Vec<u8>,
}

/// Which OS store holds a keyring slot's wrapping key: the store byte of the slot
/// (docs/FORMAT.md). A byte this version does not know is kept as it is, so such a vault
/// still parses, says which store it needs, and opens another way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyringStore {
    /// 1: the freedesktop Secret Service (gnome-keyring, KWallet).
    SecretService,
    /// 2: the Linux kernel's keyutils user keyring (gone at reboot).
    Keyutils,
    /// 3: the macOS login Keychain.
    MacosKeychain,
    /// 4: the Windows Credential Manager.
    WindowsCredentials,
    /// A store byte this version does not know.
    Unknown(u8),
}

impl KeyringStore {
    /// The store of a store byte.
    pub fn from_byte(b: u8) -> KeyringStore {
        match b {
            1 => KeyringStore::SecretService,
            2 => KeyringStore::Keyutils,
            3 => KeyringStore::MacosKeychain,
            4 => KeyringStore::WindowsCredentials,
            other => KeyringStore::Unknown(other),
        }
    }

    /// The byte recorded in the slot.
    pub fn byte(self) -> u8 {
        match self {
            KeyringStore::SecretService => 1,
            KeyringStore::Keyutils => 2,
            KeyringStore::MacosKeychain => 3,
            KeyringStore::WindowsCredentials => 4,
            KeyringStore::Unknown(b) => b,
        }
    }

    /// The name shown to people and in `--json` output.
    pub fn name(self) -> &'static str {
        match self {
            KeyringStore::SecretService => "secret-service",
            KeyringStore::Keyutils => "keyutils",
            KeyringStore::MacosKeychain => "macos-keychain",
            KeyringStore::WindowsCredentials => "windows-credential-manager",
            KeyringStore::Unknown(_) => "unknown",
        }
    }

    /// Does the store keep its entry across a reboot?
    pub fn survives_reboot(self) -> bool {
        match self {
            KeyringStore::Keyutils => false,
            KeyringStore::SecretService
            | KeyringStore::MacosKeychain
            | KeyringStore::WindowsCredentials
            | KeyringStore::Unknown(_) => true,
        }
    }
}

/// A keyring slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyringSlot {
    /// Which store holds the wrapping key.
    pub store: KeyringStore,
    /// AEAD nonce.
    pub nonce: [u8; NONCE_LEN],
    /// The wrapped identity (with tag).
    pub ciphertext: Vec<u8>,
}

impl Slot {
    /// The type byte.
    pub fn type_byte(&self) -> u8 {
        match self {
            Slot::Passphrase(_) => SLOT_PASSPHRASE,
            Slot::Keyring(_) => SLOT_KEYRING,
        }
    }

    /// The bytes that go into the AEAD's associated data after `vault_id ‖ type`: the slot's
    /// own parameters, salt and nonce (everything but the ciphertext).
    pub fn params_bytes(&self) -> Vec<u8> {
        let mut v = Vec::new();
        match self {
            Slot::Passphrase(p) => {
                v.extend_from_slice(&p.params.memory_kib.to_be_bytes());
                v.extend_from_slice(&p.params.iterations.to_be_bytes());
                v.extend_from_slice(&p.params.lanes.to_be_bytes());
                v.extend_from_slice(&p.salt);
                v.extend_from_slice(&p.nonce);
            }
            Slot::Keyring(k) => {
                v.push(k.store.byte());
                v.extend_from_slice(&k.nonce);
            }
        }
        v
    }

    /// The wrapped identity (with tag).
    pub fn ciphertext(&self) -> &[u8] {
        match self {
            Slot::Passphrase(p) => &p.ciphertext,
            Slot::Keyring(k) => &k.ciphertext,
        }
    }

    /// The AEAD nonce.
    pub fn nonce(&self) -> &[u8; NONCE_LEN] {
        match self {
            Slot::Passphrase(p) => &p.nonce,
            Slot::Keyring(k) => &k.nonce,
        }
    }
}

impl Header {
    /// The passphrase slot, if any.
    pub fn passphrase_slot(&self) -> Option<&PassphraseSlot> {
        self.slots.iter().find_map(|s| match s {
            Slot::Passphrase(p) => Some(p),
            Slot::Keyring(_) => None,
        })
    }

    /// The keyring slot, if any.
    pub fn keyring_slot(&self) -> Option<&KeyringSlot> {
        self.slots.iter().find_map(|s| match s {
            Slot::Keyring(k) => Some(k),
            Slot::Passphrase(_) => None,
        })
    }

    /// The slot of one type byte.
    pub fn slot(&self, type_byte: u8) -> Option<&Slot> {
        self.slots.iter().find(|s| s.type_byte() == type_byte)
    }
}

/// Associated data for a slot's AEAD: `"vault-slot-v1" ‖ vault_id ‖ type ‖ params`.
pub fn slot_aad(vault_id: &[u8; VAULT_ID_LEN], slot: &Slot) -> Vec<u8> {
    let mut aad = b"vault-slot-v1".to_vec();
    aad.extend_from_slice(vault_id);
    aad.push(slot.type_byte());
    aad.extend_from_slice(&slot.params_bytes());
    aad
}

/// Encodes the header (magic, version, length, fields).
pub fn encode_header(h: &Header) -> Vec<u8> {
    let mut f = Vec::with_capacity(256);
    f.extend_from_slice(&h.vault_id);
    f.extend_from_slice(&h.generation.to_be_bytes());
    f.extend_from_slice(&h.log_count.to_be_bytes());
    f.extend_from_slice(&h.log_head);
    put_u16_bytes(&mut f, h.recipient.as_bytes());
    f.push(u8::try_from(h.slots.len()).unwrap_or(u8::MAX));
    for s in &h.slots {
        f.push(s.type_byte());
        let mut data = s.params_bytes();
        put_u16_bytes(&mut data, s.ciphertext());
        put_u16_bytes(&mut f, &data);
    }
    let mut out = Vec::with_capacity(PREFIX_LEN + f.len());
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    out.extend_from_slice(&u32::try_from(f.len()).unwrap_or(u32::MAX).to_be_bytes());
    out.extend_from_slice(&f);
    out
}

fn put_u16_bytes(v: &mut Vec<u8>, b: &[u8]) {
    v.extend_from_slice(&u16::try_from(b.len()).unwrap_or(u16::MAX).to_be_bytes());
    v.extend_from_slice(b);
}

/// Assembles a whole file: header bytes, body length, body, MAC, checksum.
/// `mac` computes the trailer MAC of everything before it. (vault itself writes with
/// [`begin`] and [`finish`], encrypting straight into the file; tests and fuzzing use this.)
#[cfg_attr(not(feature = "internals"), allow(dead_code))]
pub fn assemble(header_bytes: &[u8], body: &[u8], mac: impl FnOnce(&[u8]) -> [u8; 32]) -> Vec<u8> {
    let mut out = begin(header_bytes, body.len());
    out.extend_from_slice(body);
    finish(&mut out, header_bytes.len(), mac);
    out
}

/// Starts a file: the header bytes and room for the body's length, with capacity for a body
/// of about `body_capacity` bytes. The body is appended next, then [`finish`] ends the file.
pub fn begin(header_bytes: &[u8], body_capacity: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(header_bytes.len() + 4 + body_capacity + TAG_LEN + 4);
    out.extend_from_slice(header_bytes);
    out.extend_from_slice(&[0; 4]);
    out
}

/// Ends a file from [`begin`] whose body has been appended after the header's
/// `header_len` bytes: writes the body's length, then the trailer MAC (`mac` of everything
/// before it) and the checksum (a CRC-32 of everything before it).
pub fn finish(out: &mut Vec<u8>, header_len: usize, mac: impl FnOnce(&[u8]) -> [u8; 32]) {
    let body_len = out.len().saturating_sub(header_len + 4);
    if let Some(len) = out.get_mut(header_len..header_len + 4) {
        len.copy_from_slice(&u32::try_from(body_len).unwrap_or(u32::MAX).to_be_bytes());
    }
    let tag = mac(out);
    out.extend_from_slice(&tag);
    let sum = crc32fast::hash(out);
    out.extend_from_slice(&sum.to_be_bytes());
}

/// A parsed file, borrowing the exact bytes read.
#[derive(Debug)]
pub struct Parsed<'a> {
    /// The format version: [`VERSION`] or [`VERSION_1`].
    pub version: u8,
    /// The decoded header.
    pub header: Header,
    /// The exact header bytes (magic through the last slot).
    pub header_bytes: &'a [u8],
    /// The age body.
    pub body: &'a [u8],
    /// Everything before the trailer MAC (header, body length, body): what a format-1 MAC
    /// covers.
    pub mac_input: &'a [u8],
    /// The trailer MAC as stored.
    pub mac: &'a [u8],
    /// The whole file: everything before the MAC, the MAC and the checksum.
    pub whole: &'a [u8],
}

impl<'a> Parsed<'a> {
    /// The header and the body's length: what comes before the age body.
    pub fn prefix(&self) -> &'a [u8] {
        &self.mac_input[..self.header_bytes.len() + 4]
    }
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or(Error::Corrupted("length overflow"))?;
        let s = self
            .b
            .get(self.pos..end)
            .ok_or(Error::Corrupted("a field runs past its end"))?;
        self.pos = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16> {
        let s = self.take(2)?;
        Ok(u16::from_be_bytes([s[0], s[1]]))
    }
    fn u32(&mut self) -> Result<u32> {
        let mut a = [0u8; 4];
        a.copy_from_slice(self.take(4)?);
        Ok(u32::from_be_bytes(a))
    }
    fn u64(&mut self) -> Result<u64> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8)?);
        Ok(u64::from_be_bytes(a))
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }
    fn u16_bytes(&mut self) -> Result<&'a [u8]> {
        let n = usize::from(self.u16()?);
        self.take(n)
    }
    fn done(&self) -> bool {
        self.pos == self.b.len()
    }
}

/// What a file whose checksum does not hold is.
pub const CHECKSUM_MISMATCH: Error = Error::Corrupted("checksum mismatch");

/// Checks the magic and the unkeyed checksum, then parses the structure. No key is needed and
/// nothing expensive happens here.
pub fn parse(bytes: &[u8]) -> Result<Parsed<'_>> {
    parse_inner(bytes, true)
}

/// As [`parse`], without hashing the file again: only for bytes that already passed [`parse`]
/// and have not changed since (a [`crate::VaultFile`] keeps its bytes), so a large vault is
/// not checksummed twice on every open.
pub fn reparse(bytes: &[u8]) -> Result<Parsed<'_>> {
    parse_inner(bytes, false)
}

/// Whether the file's checksum holds: for version 1 its last 32 bytes are the SHA-256 of
/// everything before them, for version 2 its last 4 bytes the CRC-32 of everything before
/// them (false for anything too short to have one). A file of another version holds if
/// either does: it says the file is whole, and its version is then refused as such.
pub fn checksum_holds(bytes: &[u8]) -> bool {
    // An unkeyed checksum: nothing secret depends on it, so a plain comparison is fine.
    let sha = || match bytes.len().checked_sub(TAG_LEN) {
        Some(n) if n > 8 => Sha256::digest(&bytes[..n]).as_slice() == &bytes[n..],
        _ => false,
    };
    let crc = || match bytes.len().checked_sub(4) {
        Some(n) if n > 8 => crc32fast::hash(&bytes[..n]).to_be_bytes() == bytes[n..],
        _ => false,
    };
    match bytes.get(8) {
        Some(&VERSION_1) => sha(),
        Some(&VERSION) => crc(),
        Some(_) => crc() || sha(),
        None => false,
    }
}

fn parse_inner(bytes: &[u8], checksum: bool) -> Result<Parsed<'_>> {
    if bytes.len() < MAGIC.len() {
        return if MAGIC.starts_with(bytes) {
            Err(Error::Corrupted("truncated"))
        } else {
            Err(Error::NotAVault)
        };
    }
    if &bytes[..8] != MAGIC {
        return Err(Error::NotAVault);
    }
    // (A file of 8 bytes has no version byte: it is refused as truncated right here.)
    let sum_len = checksum_len(bytes.get(8).copied().unwrap_or(VERSION));
    if bytes.len() < PREFIX_LEN + 4 + TAG_LEN + sum_len {
        return Err(Error::Corrupted("truncated"));
    }
    if checksum && !checksum_holds(bytes) {
        return Err(CHECKSUM_MISMATCH);
    }
    let version = bytes[8];
    if version != VERSION && version != VERSION_1 {
        return Err(Error::UnsupportedVersion(version));
    }
    let content = &bytes[..bytes.len() - checksum_len(version)];
    let (mac_input, mac) = content.split_at(content.len() - TAG_LEN);
    let mut r = Reader {
        b: mac_input,
        pos: 9,
    };
    let hlen = usize::try_from(r.u32()?).map_err(|_| Error::Corrupted("header length"))?;
    if hlen > MAX_HEADER_LEN {
        return Err(Error::Corrupted("header length out of bounds"));
    }
    let fields = r.take(hlen)?;
    let header_end = r.pos;
    let header = parse_fields(fields)?;
    let blen = usize::try_from(r.u32()?).map_err(|_| Error::Corrupted("body length"))?;
    if blen > MAX_BODY_LEN {
        return Err(Error::Corrupted("body length out of bounds"));
    }
    let body = r.take(blen)?;
    if !r.done() {
        return Err(Error::Corrupted("trailing bytes"));
    }
    Ok(Parsed {
        version,
        header,
        header_bytes: &mac_input[..header_end],
        body,
        mac_input,
        mac,
        whole: bytes,
    })
}

/// Parses the header fields only (also the fuzz entry point).
pub fn parse_fields(fields: &[u8]) -> Result<Header> {
    let mut r = Reader { b: fields, pos: 0 };
    let vault_id = r.array::<VAULT_ID_LEN>()?;
    let generation = r.u64()?;
    let log_count = r.u64()?;
    let log_head = r.array::<32>()?;
    let recipient = std::str::from_utf8(r.u16_bytes()?)
        .map_err(|_| Error::Corrupted("recipient is not text"))?
        .to_string();
    if !recipient.starts_with("age1") || recipient.len() > 128 {
        return Err(Error::Corrupted("recipient is not an age X25519 recipient"));
    }
    let count = usize::from(r.u8()?);
    if count == 0 || count > MAX_SLOTS {
        return Err(Error::Corrupted("slot count out of bounds"));
    }
    let mut slots = Vec::with_capacity(count);
    for _ in 0..count {
        let ty = r.u8()?;
        let data = r.u16_bytes()?;
        if data.len() > MAX_SLOT_LEN {
            return Err(Error::Corrupted("slot too long"));
        }
        let mut s = Reader { b: data, pos: 0 };
        let slot = match ty {
            SLOT_PASSPHRASE => {
                let params = KdfParams {
                    memory_kib: s.u32()?,
                    iterations: s.u32()?,
                    lanes: s.u32()?,
                };
                let salt = s.array::<SALT_LEN>()?;
                let nonce = s.array::<NONCE_LEN>()?;
                let ciphertext = s.u16_bytes()?.to_vec();
                Slot::Passphrase(PassphraseSlot {
                    params,
                    salt,
                    nonce,
                    ciphertext,
                })
            }
            SLOT_KEYRING => {
                let store = KeyringStore::from_byte(s.u8()?);
                let nonce = s.array::<NONCE_LEN>()?;
                let ciphertext = s.u16_bytes()?.to_vec();
                Slot::Keyring(KeyringSlot {
                    store,
                    nonce,
                    ciphertext,
                })
            }
            _ => return Err(Error::Corrupted("unknown slot type")),
        };
        if !s.done() {
            return Err(Error::Corrupted("slot has trailing bytes"));
        }
        if slots.iter().any(|o: &Slot| o.type_byte() == ty) {
            return Err(Error::Corrupted("duplicate slot type"));
        }
        slots.push(slot);
    }
    if !r.done() {
        return Err(Error::Corrupted("header has trailing bytes"));
    }
    Ok(Header {
        vault_id,
        generation,
        log_count,
        log_head,
        recipient,
        slots,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample(gen: u64, ct: Vec<u8>) -> Header {
        Header {
            vault_id: [7; 16],
            generation: gen,
            log_count: 3,
            log_head: [9; 32],
            recipient: "age1qqqq".into(),
            slots: vec![Slot::Passphrase(PassphraseSlot {
                params: crate::kdf::FLOOR,
                salt: [1; 16],
                nonce: [2; 24],
                ciphertext: ct,
            })],
        }
    }

    proptest! {
        #[test]
        fn header_encode_decode_round_trips(gen in any::<u64>(), ct in proptest::collection::vec(any::<u8>(), 0..200)) {
            let h = sample(gen, ct);
            let bytes = encode_header(&h);
            let file = assemble(&bytes, b"body", |_| [0u8; 32]);
            let p = parse(&file).expect("parse");
            prop_assert_eq!(p.header, h);
            prop_assert_eq!(p.header_bytes, &bytes[..]);
            prop_assert_eq!(p.body, b"body");
        }

        #[test]
        fn parse_never_panics_on_arbitrary_bytes(b in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = parse(&b);
            let _ = parse_fields(&b);
        }
    }
}
