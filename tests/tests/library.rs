//! The public vault-core API: round trips, integrity, crash safety, concurrency, rollback and
//! file permissions. Each test is named after the promise it protects.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use secrecy::ExposeSecret;
use vault_core::format::{self, Slot};
use vault_core::{Error, Unlock, Vault, VaultFile, Withdrawals};
use vault_tests::*;

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).expect("read vault")
}

fn write_raw(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).expect("write");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
}

/// The file with its checksum made right again, computed independently of vault's code:
/// format 1 ends with the SHA-256 of everything before it (`sha256sum`), format 2 with its
/// CRC-32, big-endian (`crc32_shim` below).
fn with_checksum(mut b: Vec<u8>) -> Vec<u8> {
    if b[8] == format::VERSION_1 {
        let n = b.len() - 32;
        let sum = sha2_shim::digest(&b[..n]);
        b[n..].copy_from_slice(&sum);
    } else {
        let n = b.len() - 4;
        let sum = crc32_shim(&b[..n]);
        b[n..].copy_from_slice(&sum.to_be_bytes());
    }
    b
}

/// CRC-32 as zlib, PNG and Python's `zlib.crc32` compute it (reflected, polynomial
/// 0xEDB88320, initial and final XOR 0xFFFFFFFF), bit by bit: written here independently of
/// the crate vault uses, and held to the algorithm's published check value below.
fn crc32_shim(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn the_tests_crc32_is_the_standard_one() {
    // The CRC-32 check value (the CRC of the ASCII digits 1 to 9) and an empty input.
    assert_eq!(crc32_shim(b"123456789"), 0xCBF4_3926);
    assert_eq!(crc32_shim(b""), 0);
}

/// SHA-256 without another dependency: `sha256sum` is everywhere we run.
mod sha2_shim {
    pub fn digest(data: &[u8]) -> [u8; 32] {
        use std::io::Write;
        let mut child = std::process::Command::new("sha256sum")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("sha256sum");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(data)
            .expect("write");
        let out = child.wait_with_output().expect("sha256sum");
        let hex = String::from_utf8_lossy(&out.stdout);
        let mut r = [0u8; 32];
        for (i, b) in r.iter_mut().enumerate() {
            *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex");
        }
        r
    }
}

fn identity_of(v: &Vault) -> secrecy::SecretString {
    v.identity_secret().clone()
}

#[test]
fn round_trip_through_the_public_api() {
    let sb = Sandbox::new();
    let mut v = sb.create();
    v.add(new_bot(
        "alpha",
        "AKEY-round-trip-0001",
        "SECRET-round-trip-0001",
    ))
    .expect("add");
    drop(v);
    let v = Vault::open(
        &sb.vault(),
        Unlock::Passphrase(&pass(PASSPHRASE)),
        sb.opts(),
    )
    .expect("open");
    let bot = v.bot("alpha").expect("bot");
    let c = vault_core::Credentials::from_bot(bot).expect("creds");
    assert_eq!(c.key.expose(), "AKEY-round-trip-0001");
    assert_eq!(c.secret.expose(), "SECRET-round-trip-0001");
    assert_eq!(bot.key_hint, "AKEY…0001");
    assert!(matches!(v.bot("nope"), Err(Error::NoSuchBot(_))));
}

#[test]
fn new_vault_file_is_0600_in_a_0700_directory() {
    let sb = Sandbox::new();
    sb.create();
    let m = std::fs::metadata(sb.vault())
        .expect("meta")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(m, 0o600);
    let d = std::fs::metadata(sb.vault().parent().expect("dir"))
        .expect("meta")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(d, 0o700);
}

#[test]
fn create_never_overwrites_an_existing_vault() {
    let sb = Sandbox::new();
    sb.create();
    let before = read(&sb.vault());
    let r = Vault::create(&sb.vault(), &pass(PASSPHRASE), TEST_KDF, sb.opts());
    assert!(matches!(r, Err(Error::AlreadyExists(_))));
    assert_eq!(read(&sb.vault()), before);
}

#[test]
fn wrong_passphrase_is_reported_and_leaves_the_file_byte_identical() {
    let sb = Sandbox::new();
    sb.create();
    let before = read(&sb.vault());
    let r = Vault::open(
        &sb.vault(),
        Unlock::Passphrase(&pass("not the passphrase at all")),
        sb.opts(),
    );
    assert!(
        matches!(r, Err(Error::WrongPassphraseOrTamperedSlot)),
        "{r:?}"
    );
    assert_eq!(read(&sb.vault()), before);
}

#[test]
fn every_truncation_is_reported_as_corrupted() {
    let sb = Sandbox::new();
    let mut v = sb.create();
    v.add(new_bot("a", "AKEY-trunc-00000001", "SECRET-trunc-0001"))
        .expect("add");
    let full = read(&sb.vault());
    let t = sb.path().join("t.age");
    for len in 0..full.len() {
        write_raw(&t, &full[..len]);
        match VaultFile::read(&t, sb.opts()) {
            Err(Error::Corrupted(_)) => {}
            other => panic!("truncated to {len}: {other:?}"),
        }
    }
}

#[test]
fn every_single_byte_flip_is_detected_without_a_key() {
    let sb = Sandbox::new();
    let mut v = sb.create();
    v.add(new_bot("a", "AKEY-flip-000000001", "SECRET-flip-0001"))
        .expect("add");
    let full = read(&sb.vault());
    let t = sb.path().join("t.age");
    for i in 0..full.len() {
        let mut b = full.clone();
        b[i] ^= 0x01;
        write_raw(&t, &b);
        match VaultFile::read(&t, sb.opts()) {
            Err(Error::Corrupted(_)) | Err(Error::NotAVault) => {}
            other => panic!("flip at {i}: {other:?}"),
        }
    }
}

#[test]
fn read_to_unlock_reports_a_damaged_file_as_read_does_before_any_other_error() {
    // `read_to_unlock` leaves the checksum to the first unlock, where it is hashed beside the
    // MAC (identity) or before anything is spent (passphrase). Whatever byte is damaged, in a
    // small vault and in one past 64 KiB (the two-thread path), that unlock must fail with
    // exactly the error `read` gives, and an intact file must open.
    let sb = Sandbox::new();
    let mut v = sb.create();
    v.add(new_bot("a", "AKEY-rtu-0000000001", "SECRET-rtu-000001"))
        .expect("add");
    let small = read(&sb.vault());
    let bots: Vec<_> = (0..150)
        .map(|i| {
            new_bot(
                &format!("b-{i:03}"),
                &format!("AKEY-rtu-{i:08}-0000000000"),
                &format!("SECRET-rtu-{i:08}-000000000"),
            )
        })
        .collect();
    v.add_many(bots).expect("add many");
    let big = read(&sb.vault());
    assert!(big.len() > 64 * 1024, "{}", big.len());
    let id = identity_of(&v);
    let t = sb.path().join("t.age");
    // The small file is an older generation than the record: not what this test is about.
    let opts = || {
        let mut o = sb.opts();
        o.accept_rollback = true;
        o
    };
    for (full, bots) in [(&small, 1), (&big, 151)] {
        write_raw(&t, full);
        let f = VaultFile::read_to_unlock(&t, opts()).expect("intact");
        let opened = f.unlock(Unlock::Identity(&id)).expect("opens");
        assert_eq!(opened.bots().count(), bots);
        // Every byte of the small file; in the big one the header, a stretch of the body,
        // the MAC and the checksum.
        let n = full.len();
        let places: Vec<usize> = if n > 64 * 1024 {
            (0..400).chain(n / 2..n / 2 + 64).chain(n - 64..n).collect()
        } else {
            (0..n).collect()
        };
        for i in places {
            let mut b = full.clone();
            b[i] ^= 0x01;
            write_raw(&t, &b);
            let want = VaultFile::read(&t, opts())
                .map(|_| ())
                .expect_err("damaged");
            let got = VaultFile::read_to_unlock(&t, opts())
                .and_then(|f| f.unlock(Unlock::Identity(&id)).map(|_| ()))
                .expect_err("damaged, identity");
            assert_eq!(
                format!("{got:?}"),
                format!("{want:?}"),
                "identity, flip at {i}"
            );
            if i % 97 == 0 {
                let got = VaultFile::read_to_unlock(&t, opts())
                    .and_then(|f| f.unlock(Unlock::Passphrase(&pass(PASSPHRASE))).map(|_| ()))
                    .expect_err("damaged, passphrase");
                assert_eq!(
                    format!("{got:?}"),
                    format!("{want:?}"),
                    "passphrase, flip at {i}"
                );
                let f = VaultFile::read_to_unlock(&t, opts());
                if let Ok(f) = f {
                    assert_eq!(
                        format!("{:?}", f.check().expect_err("check")),
                        format!("{want:?}")
                    );
                }
            }
        }
    }
}

#[test]
fn flips_with_a_recomputed_checksum_never_open() {
    let sb = Sandbox::new();
    let mut v = sb.create();
    v.add(new_bot("a", "AKEY-flip2-00000001", "SECRET-flip2-0001"))
        .expect("add");
    let id = identity_of(&v);
    let full = read(&sb.vault());
    let parsed = format::parse(&full).expect("parse");
    let header_len = parsed.header_bytes.len();
    // Where the passphrase slot's params, salt and nonce sit: the slot data follows
    // prefix(13) + id(16) + gen(8) + count(8) + head(32) + recipient(2+len) + count(1) + type(1) + len(2).
    let slot_start = 13 + 16 + 8 + 8 + 32 + 2 + parsed.header.recipient.len() + 1 + 1 + 2;
    drop(parsed);
    let t = sb.path().join("t.age");
    let body_flips: Vec<usize> = (header_len..full.len() - 32).collect();
    for i in (0..header_len).chain(body_flips) {
        for bit in [0x01u8, 0x80] {
            let mut b = full.clone();
            b[i] ^= bit;
            let b = with_checksum(b);
            write_raw(&t, &b);
            let Ok(f) = VaultFile::read(&t, sb.opts()) else {
                continue;
            };
            let r = f.unlock(Unlock::Identity(&id));
            assert!(
                matches!(r, Err(Error::Tampered) | Err(Error::WrongIdentity)),
                "identity unlock, flip {bit:#x} at {i}: {:?}",
                r.map(|_| ())
            );
        }
    }
    // The passphrase path over the slot's own bytes (params, salt, nonce, start of ciphertext).
    for i in slot_start..slot_start + 12 + 16 + 24 + 8 {
        let mut b = full.clone();
        b[i] ^= 0x01;
        let b = with_checksum(b);
        write_raw(&t, &b);
        let Ok(f) = VaultFile::read(&t, sb.opts()) else {
            continue;
        };
        let r = f.unlock(Unlock::Passphrase(&pass(PASSPHRASE)));
        assert!(
            matches!(
                r,
                Err(Error::WrongPassphraseOrTamperedSlot)
                    | Err(Error::KdfParams(_))
                    | Err(Error::Tampered)
            ),
            "passphrase unlock, flip at {i}: {:?}",
            r.map(|_| ())
        );
    }
}

#[test]
fn a_body_forged_with_the_public_recipient_is_rejected() {
    use std::io::Write;
    let sb = Sandbox::new();
    let mut v = sb.create();
    v.add(new_bot("a", "AKEY-forge-00000001", "SECRET-forge-0001"))
        .expect("add");
    let id = identity_of(&v);
    let full = read(&sb.vault());
    let parsed = format::parse(&full).expect("parse");
    let recipient: age::x25519::Recipient = parsed.header.recipient.parse().expect("recipient");
    // A small body, and one past 64 KiB, whose MAC is checked on a second thread while the
    // body decrypts: both are refused.
    let big = format!(
        r#"{{"format":1,"fingerprint_key":"00","log_key":"00","bots":{{}},"exported_files":["{}"]}}"#,
        "x".repeat(200 * 1024)
    );
    for forged_json in [
        br#"{"format":1,"fingerprint_key":"00","log_key":"00","bots":{}}"#.as_slice(),
        big.as_bytes(),
    ] {
        let enc =
            age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
                .expect("enc");
        let mut body = Vec::new();
        let mut w = enc.wrap_output(&mut body).expect("wrap");
        w.write_all(forged_json).expect("write");
        w.finish().expect("finish");
        let file = format::assemble(parsed.header_bytes, &body, |_| [0u8; 32]);
        let t = sb.path().join("forged.age");
        write_raw(&t, &file);
        let r = VaultFile::read(&t, sb.opts())
            .expect("checksum is fine")
            .unlock(Unlock::Identity(&id));
        assert!(matches!(r, Err(Error::Tampered)), "{:?}", r.map(|_| ()));
        // The CLI's way in: checksum and MAC on the second thread while the forged JSON (a
        // valid body) is decrypted and parsed; it must not come out.
        let r = VaultFile::read_to_unlock(&t, sb.opts())
            .expect("structure is fine")
            .unlock(Unlock::Identity(&id));
        assert!(matches!(r, Err(Error::Tampered)), "{:?}", r.map(|_| ()));
        let r = VaultFile::read(&t, sb.opts())
            .expect("read")
            .unlock(Unlock::Passphrase(&pass(PASSPHRASE)));
        assert!(matches!(r, Err(Error::Tampered)), "{:?}", r.map(|_| ()));
    }
}

#[test]
fn a_vault_past_64_kib_writes_verifies_and_reopens_with_every_bot() {
    // Bodies past 64 KiB take the two-thread paths (MAC beside decrypt; the write check
    // beside write and fsync), and the body text outgrows its first buffer estimate.
    let sb = Sandbox::new();
    let mut v = sb.create();
    let bots: Vec<_> = (0..300)
        .map(|i| {
            let mut b = new_bot(
                &format!("bot-{i:03}"),
                &format!("AKEY-big-{i:08}-0000000000"),
                &format!("SECRET-big-{i:08}-000000000"),
            );
            b.note = Some("n".repeat(if i == 7 { 300 * 1024 } else { 100 }));
            b
        })
        .collect();
    v.add_many(bots).expect("add many");
    assert!(read(&sb.vault()).len() > 300 * 1024);
    let id = identity_of(&v);
    drop(v);
    let mut v = VaultFile::read(&sb.vault(), sb.opts())
        .expect("read")
        .unlock(Unlock::Identity(&id))
        .expect("unlock");
    assert_eq!(v.bots().count(), 300);
    assert_eq!(
        v.bot("bot-007").expect("bot").note.as_deref().map(str::len),
        Some(300 * 1024)
    );
    v.remove("bot-007").expect("remove");
    let v = VaultFile::read(&sb.vault(), sb.opts())
        .expect("read")
        .unlock(Unlock::Identity(&id))
        .expect("unlock");
    assert_eq!(v.bots().count(), 299);
}

#[test]
fn kdf_parameters_raised_in_a_slot_are_refused_before_any_large_allocation() {
    let sb = Sandbox::new();
    sb.create();
    let full = read(&sb.vault());
    let parsed = format::parse(&full).expect("parse");
    let slot_start = 13 + 16 + 8 + 8 + 32 + 2 + parsed.header.recipient.len() + 1 + 1 + 2;
    drop(parsed);
    for (offset, value) in [
        (0usize, u32::MAX),
        (0, 64 * 1024 * 1024),
        (4, 1000),
        (8, 255),
    ] {
        let mut b = full.clone();
        b[slot_start + offset..slot_start + offset + 4].copy_from_slice(&value.to_be_bytes());
        let b = with_checksum(b);
        let t = sb.path().join("raised.age");
        write_raw(&t, &b);
        let start = Instant::now();
        let r = VaultFile::read(&t, sb.opts())
            .expect("read")
            .unlock(Unlock::Passphrase(&pass(PASSPHRASE)));
        assert!(matches!(r, Err(Error::KdfParams(_))), "{:?}", r.map(|_| ()));
        assert!(
            start.elapsed() < Duration::from_millis(100),
            "took {:?}",
            start.elapsed()
        );
    }
}

#[test]
fn a_write_after_an_identity_only_unlock_works() {
    let sb = Sandbox::new();
    let v = sb.create();
    let id = identity_of(&v);
    drop(v);
    let mut v =
        Vault::open(&sb.vault(), Unlock::Identity(&id), sb.opts()).expect("identity unlock");
    v.add(new_bot("a", "AKEY-identity-write-1", "SECRET-identity-1"))
        .expect("add");
    v.rotate("a", key("AKEY-identity-write-2", "SECRET-identity-2"), None)
        .expect("rotate");
    drop(v);
    // The passphrase slot was carried over untouched and still opens the vault.
    let v = Vault::open(
        &sb.vault(),
        Unlock::Passphrase(&pass(PASSPHRASE)),
        sb.opts(),
    )
    .expect("passphrase");
    assert_eq!(v.bot("a").expect("a").history.len(), 1);
}

#[test]
fn a_wrong_identity_is_refused() {
    let sb = Sandbox::new();
    sb.create();
    let other = age::x25519::Identity::generate().to_string();
    let r = Vault::open(&sb.vault(), Unlock::Identity(&other), sb.opts());
    assert!(
        matches!(r, Err(Error::WrongIdentity)),
        "{:?}",
        r.map(|_| ())
    );
}

#[test]
fn add_refuses_withdrawals_and_known_keys_and_writes_nothing() {
    let sb = Sandbox::new();
    let mut v = sb.create();
    v.add(new_bot("a", "AKEY-known-00000001", "SECRET-known-0001"))
        .expect("add");
    let before = read(&sb.vault());
    let mut w = new_bot("b", "AKEY-known-00000002", "SECRET-known-0002");
    w.scope.withdrawals = Withdrawals::Enabled;
    assert!(matches!(v.add(w), Err(Error::Policy(_))));
    assert!(matches!(
        v.add(new_bot("c", "AKEY-known-00000001", "x-other-secret")),
        Err(Error::Policy(_))
    ));
    assert!(matches!(
        v.add(new_bot("a", "AKEY-known-00000009", "SECRET-known-0009")),
        Err(Error::BotExists(_))
    ));
    assert!(matches!(
        v.add(new_bot("Bad Name", "AKEY-known-00000003", "s")),
        Err(Error::InvalidInput(_))
    ));
    assert_eq!(
        read(&sb.vault()),
        before,
        "a refused add must write nothing"
    );
    // Rotated-out, revoked and removed keys stay known.
    v.rotate(
        "a",
        key("AKEY-known-00000004", "SECRET-known-0004"),
        Some("test".into()),
    )
    .expect("rotate");
    assert!(matches!(
        v.add(new_bot("d", "AKEY-known-00000001", "s-1234567890")),
        Err(Error::Policy(_))
    ));
    v.revoke("a", None).expect("revoke");
    assert!(matches!(
        v.add(new_bot("d", "AKEY-known-00000004", "s-1234567890")),
        Err(Error::Policy(_))
    ));
    v.add(new_bot("e", "AKEY-known-00000005", "SECRET-known-0005"))
        .expect("add e");
    v.remove("e").expect("remove");
    assert!(matches!(
        v.add(new_bot("f", "AKEY-known-00000005", "s-1234567890")),
        Err(Error::Policy(_))
    ));
    assert!(matches!(
        v.rotate("a", key("AKEY-known-00000005", "s-1234567890"), None),
        Err(Error::Policy(_))
    ));
}

#[test]
fn revoke_wipes_the_secret_material_and_keeps_a_tombstone() {
    let sb = Sandbox::new();
    let mut v = sb.create();
    v.add(new_bot("a", "AKEY-revoke-0000001", "SECRET-revoke-0001"))
        .expect("add");
    v.set_secret(
        "a",
        "FREQTRADE__TELEGRAM__TOKEN",
        "TOKEN-revoke-00001".into(),
    )
    .expect("secret");
    v.revoke("a", Some("leaked".into())).expect("revoke");
    let bot = v.bot("a").expect("a");
    assert!(bot.credentials().is_none());
    assert_eq!(bot.secret_values().count(), 0);
    assert!(!bot.is_active());
    assert_eq!(bot.history[0].event, "revoke");
    assert!(vault_core::policy::run_refusal(bot).is_some());
}

#[test]
fn passphrase_change_makes_the_old_one_useless() {
    let sb = Sandbox::new();
    let mut v = sb.create();
    v.change_passphrase(&pass("a whole new passphrase here"), TEST_KDF)
        .expect("passwd");
    drop(v);
    assert!(matches!(
        Vault::open(
            &sb.vault(),
            Unlock::Passphrase(&pass(PASSPHRASE)),
            sb.opts()
        ),
        Err(Error::WrongPassphraseOrTamperedSlot)
    ));
    Vault::open(
        &sb.vault(),
        Unlock::Passphrase(&pass("a whole new passphrase here")),
        sb.opts(),
    )
    .expect("new works");
}

#[test]
fn rekey_makes_old_identities_useless() {
    let sb = Sandbox::new();
    let mut v = sb.create();
    v.add(new_bot("a", "AKEY-rekey-00000001", "SECRET-rekey-0001"))
        .expect("add");
    let old = identity_of(&v);
    v.rekey(&pass("the rekeyed vault passphrase"), TEST_KDF, None)
        .expect("rekey");
    assert_ne!(v.identity_secret().expose_secret(), old.expose_secret());
    drop(v);
    assert!(matches!(
        Vault::open(&sb.vault(), Unlock::Identity(&old), sb.opts()),
        Err(Error::WrongIdentity)
    ));
    let v = Vault::open(
        &sb.vault(),
        Unlock::Passphrase(&pass("the rekeyed vault passphrase")),
        sb.opts(),
    )
    .expect("open");
    assert!(v.bot("a").is_ok());
}

#[test]
fn a_slot_swapped_in_from_another_vault_does_not_unlock() {
    let a = Sandbox::new();
    let b = Sandbox::new();
    a.create();
    b.create();
    let fa = read(&a.vault());
    let fb = read(&b.vault());
    let pa = format::parse(&fa).expect("a");
    let pb = format::parse(&fb).expect("b");
    let mut h = pa.header.clone();
    h.slots = pb.header.slots.clone();
    let hb = format::encode_header(&h);
    let file = format::assemble(&hb, pa.body, |_| [0; 32]);
    let t = a.path().join("swapped.age");
    write_raw(&t, &file);
    let r = VaultFile::read(&t, a.opts())
        .expect("read")
        .unlock(Unlock::Passphrase(&pass(PASSPHRASE)));
    assert!(
        matches!(r, Err(Error::WrongPassphraseOrTamperedSlot)),
        "{:?}",
        r.map(|_| ())
    );
    assert!(matches!(h.slots[0], Slot::Passphrase(_)));
}

#[test]
fn a_restored_older_copy_is_refused_as_a_rollback() {
    let sb = Sandbox::new();
    let mut v = sb.create();
    v.add(new_bot("a", "AKEY-rollback-00001", "SECRET-rollback-01"))
        .expect("add");
    let old = read(&sb.vault());
    v.revoke("a", None).expect("revoke");
    let id = identity_of(&v);
    drop(v);
    write_raw(&sb.vault(), &old);
    let r = Vault::open(&sb.vault(), Unlock::Identity(&id), sb.opts());
    match r {
        Err(Error::RolledBack { found, seen }) => assert!(found < seen),
        other => panic!("{:?}", other.map(|_| ())),
    }
    let mut opts = sb.opts();
    opts.accept_rollback = true;
    let v = Vault::open(&sb.vault(), Unlock::Identity(&id), opts).expect("accepted");
    assert!(!v.warnings().is_empty());
    // Without a record: trust on first use, with a warning.
    let other_state = Sandbox::new();
    let v = Vault::open(&sb.vault(), Unlock::Identity(&id), other_state.opts()).expect("tofu");
    assert!(v.warnings().iter().any(|w| w.contains("first time")));
}

#[test]
fn a_writer_refuses_a_rollback_to_the_very_file_it_opened() {
    // The writer's re-read sees the length and checksum of the file it opened, and so skips
    // reading the rest; the generation record must still refuse that older file.
    let sb = Sandbox::new();
    let mut v = sb.create();
    v.add(new_bot(
        "a",
        "AKEY-own-rollback-01",
        "SECRET-own-rollback-1",
    ))
    .expect("add");
    let id = identity_of(&v);
    let mut stale = Vault::open(&sb.vault(), Unlock::Identity(&id), sb.opts()).expect("open");
    let old = read(&sb.vault());
    v.add(new_bot(
        "b",
        "AKEY-own-rollback-02",
        "SECRET-own-rollback-2",
    ))
    .expect("newer write");
    write_raw(&sb.vault(), &old);
    match stale.add(new_bot(
        "c",
        "AKEY-own-rollback-03",
        "SECRET-own-rollback-3",
    )) {
        Err(Error::RolledBack { found, seen }) => assert!(found < seen),
        other => panic!("{:?}", other.map(|_| ())),
    }
    assert_eq!(read(&sb.vault()), old, "a refused write changes nothing");
}

#[test]
fn a_writer_never_adopts_a_file_changed_behind_it_that_ends_like_its_own() {
    // A file damaged (or forged) between open and write, keeping the last 32 bytes of the
    // one the writer verified: nothing of it is used, and the write puts a whole, verified
    // vault in its place with every bot the writer knew.
    let sb = Sandbox::new();
    let mut v = sb.create();
    v.add(new_bot("a", "AKEY-same-tail-00001", "SECRET-same-tail-001"))
        .expect("add");
    let mut bytes = read(&sb.vault());
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    write_raw(&sb.vault(), &bytes);
    v.add(new_bot("b", "AKEY-same-tail-00002", "SECRET-same-tail-002"))
        .expect("add over the damaged file");
    let id = identity_of(&v);
    drop(v);
    let v = Vault::open(&sb.vault(), Unlock::Identity(&id), sb.opts()).expect("reopen");
    let names: Vec<&str> = v.bots().map(|b| b.name.as_str()).collect();
    assert_eq!(names, ["a", "b"]);
}

#[test]
fn a_writer_whose_file_another_writer_replaced_starts_from_the_new_file() {
    // The other case of the same re-read: a different checksum means a full read, verify
    // and parse, so the other writer's bot is kept.
    let sb = Sandbox::new();
    let mut v = sb.create();
    let id = identity_of(&v);
    let mut other = Vault::open(&sb.vault(), Unlock::Identity(&id), sb.opts()).expect("open");
    other
        .add(new_bot(
            "x",
            "AKEY-other-writer-001",
            "SECRET-other-writer-1",
        ))
        .expect("other add");
    v.add(new_bot(
        "y",
        "AKEY-other-writer-002",
        "SECRET-other-writer-2",
    ))
    .expect("add");
    let names: Vec<&str> = v.bots().map(|b| b.name.as_str()).collect();
    assert_eq!(names, ["x", "y"]);
}

#[test]
fn insecure_vault_files_are_refused() {
    let sb = Sandbox::new();
    sb.create();
    let p = sb.vault();
    for mode in [0o644, 0o640, 0o606, 0o660] {
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).expect("chmod");
        assert!(
            matches!(
                VaultFile::read(&p, sb.opts()),
                Err(Error::InsecurePermissions { .. })
            ),
            "{mode:o}"
        );
    }
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let link = sb.path().join("link.age");
    std::os::unix::fs::symlink(&p, &link).expect("symlink");
    assert!(matches!(
        VaultFile::read(&link, sb.opts()),
        Err(Error::InsecurePermissions { .. })
    ));
    if vault_core::store::euid() == 0 {
        // Running as root: a file owned by someone else is refused.
        let other = sb.path().join("other.age");
        std::fs::copy(&p, &other).expect("copy");
        std::fs::set_permissions(&other, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        std::os::unix::fs::chown(&other, Some(65534), Some(65534)).expect("chown");
        assert!(matches!(
            VaultFile::read(&other, sb.opts()),
            Err(Error::InsecurePermissions { .. })
        ));
    }
}

#[test]
fn permission_rules_hold_for_an_unprivileged_user() {
    if vault_core::store::euid() != 0 {
        vault_tests::skipped(
            "permission_rules_hold_for_an_unprivileged_user",
            "needs root to switch users",
        );
        return;
    }
    let Some(setpriv) =
        require_program("setpriv", "permission_rules_hold_for_an_unprivileged_user")
    else {
        return;
    };
    let dir = tempfile::Builder::new()
        .prefix("vault-unpriv")
        .tempdir_in("/tmp")
        .expect("tmp");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let sb_dir = dir.path().join("home");
    std::fs::create_dir(&sb_dir).expect("mkdir");
    std::os::unix::fs::chown(&sb_dir, Some(65534), Some(65534)).expect("chown");
    let root_owned = dir.path().join("root.age");
    std::fs::write(&root_owned, b"x").expect("write");
    std::fs::set_permissions(&root_owned, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let exe = std::env::current_exe().expect("exe");
    let out = Command::new(setpriv)
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(&exe)
        .args([
            "--exact",
            "child_unprivileged_permission_checks",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("VAULT_TEST_CHILD", "perm")
        .env("VAULT_TEST_DIR", &sb_dir)
        .env("VAULT_TEST_ROOT_FILE", &root_owned)
        .env("HOME", &sb_dir)
        .output()
        .expect("run child");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("CHILD-OK"),
        "child did not run its checks: {text}"
    );
}

/// Runs only as the re-executed child of the test above.
#[test]
fn child_unprivileged_permission_checks() {
    if std::env::var("VAULT_TEST_CHILD").as_deref() != Ok("perm") {
        return;
    }
    let dir = std::path::PathBuf::from(std::env::var("VAULT_TEST_DIR").expect("dir"));
    assert_ne!(vault_core::store::euid(), 0);
    let vault = dir.join("v").join("vault.age");
    let opts = vault_core::OpenOptions::new(dir.join("state"));
    let v =
        Vault::create(&vault, &pass(PASSPHRASE), TEST_KDF, opts.clone()).expect("create as nobody");
    drop(v);
    VaultFile::read(&vault, opts.clone()).expect("own 0600 file opens");
    std::fs::set_permissions(&vault, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    assert!(matches!(
        VaultFile::read(&vault, opts.clone()),
        Err(Error::InsecurePermissions { .. })
    ));
    let root = std::path::PathBuf::from(std::env::var("VAULT_TEST_ROOT_FILE").expect("root"));
    assert!(matches!(
        VaultFile::read(&root, opts),
        Err(Error::InsecurePermissions { .. })
    ));
    println!("CHILD-OK");
}

fn spawn_child(kind: &str, vault: &Path, state: &Path, extra: &[(&str, String)]) -> Command {
    let exe = std::env::current_exe().expect("exe");
    let mut c = Command::new(exe);
    c.args(["--exact", "child_writer", "--nocapture", "--test-threads=1"])
        .env("VAULT_TEST_CHILD", kind)
        .env("VAULT_TEST_VAULT", vault)
        .env("VAULT_TEST_STATE", state);
    for (k, v) in extra {
        c.env(k, v);
    }
    c
}

/// The re-executed writer for the concurrency and kill tests.
#[test]
fn child_writer() {
    let kind = std::env::var("VAULT_TEST_CHILD").unwrap_or_default();
    if kind != "add" && kind != "rotate-loop" {
        return;
    }
    let vault = std::path::PathBuf::from(std::env::var("VAULT_TEST_VAULT").expect("vault"));
    let state = std::path::PathBuf::from(std::env::var("VAULT_TEST_STATE").expect("state"));
    let id = pass(&std::env::var("VAULT_TEST_IDENTITY").expect("identity"));
    let mut opts = vault_core::OpenOptions::new(state);
    opts.lock_timeout = Duration::from_secs(60);
    let mut v = Vault::open(&vault, Unlock::Identity(&id), opts).expect("open");
    if kind == "add" {
        let n = std::env::var("VAULT_TEST_N").expect("n");
        v.add(new_bot(
            &format!("bot-{n}"),
            &format!("AKEY-concurrent-{n:0>6}"),
            &format!("SECRET-concurrent-{n}"),
        ))
        .expect("add");
    } else {
        for i in 0.. {
            v.rotate(
                "a",
                key(&format!("AKEY-kill-loop-{i:08}"), "SECRET-kill-loop-0001"),
                None,
            )
            .expect("rotate");
        }
    }
}

#[test]
fn concurrent_writers_lose_no_update() {
    let sb = Sandbox::new();
    let v = sb.create();
    let id = v.identity_secret().expose_secret().to_string();
    drop(v);
    let children: Vec<_> = (0..6)
        .map(|n| {
            spawn_child(
                "add",
                &sb.vault(),
                &sb.state(),
                &[
                    ("VAULT_TEST_IDENTITY", id.clone()),
                    ("VAULT_TEST_N", n.to_string()),
                ],
            )
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("spawn")
        })
        .collect();
    for mut c in children {
        assert!(c.wait().expect("wait").success());
    }
    let v = Vault::open(&sb.vault(), Unlock::Identity(&pass(&id)), sb.opts()).expect("open");
    assert_eq!(v.bots().count(), 6, "every concurrent add must survive");
    assert!(
        v.verify_log().problems.is_empty(),
        "{:?}",
        v.verify_log().problems
    );
}

#[test]
fn a_writer_killed_at_any_moment_leaves_the_old_or_the_new_vault() {
    let sb = Sandbox::new();
    let mut v = sb.create();
    v.add(new_bot(
        "a",
        "AKEY-kill-loop-start",
        "SECRET-kill-loop-0001",
    ))
    .expect("add");
    let id = v.identity_secret().expose_secret().to_string();
    drop(v);
    let iterations: u64 = std::env::var("VAULT_KILL_ITERATIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut last_gen = 0;
    for _ in 0..iterations {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let mut child = spawn_child(
            "rotate-loop",
            &sb.vault(),
            &sb.state(),
            &[("VAULT_TEST_IDENTITY", id.clone())],
        )
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
        std::thread::sleep(Duration::from_micros(2_000 + seed % 40_000));
        child.kill().expect("SIGKILL");
        child.wait().expect("wait");
        let v = Vault::open(&sb.vault(), Unlock::Identity(&pass(&id)), sb.opts())
            .expect("the vault must always open");
        let bot = v.bot("a").expect("bot a");
        let k = vault_core::Credentials::from_bot(bot).expect("creds");
        assert!(k.key.expose().starts_with("AKEY-kill-loop-"));
        assert!(v.header().generation >= last_gen);
        last_gen = v.header().generation;
    }
    assert!(last_gen > 2, "the writer never got to write: {last_gen}");
    // The next write clears what the killed writers left behind.
    let mut v = Vault::open(&sb.vault(), Unlock::Identity(&pass(&id)), sb.opts()).expect("open");
    v.set(
        "a",
        vault_core::SetBot {
            note: Some(Some("after the kills".into())),
            ..Default::default()
        },
    )
    .expect("write");
    let leftovers: Vec<_> = std::fs::read_dir(sb.vault().parent().expect("dir"))
        .expect("dir")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "stale temporaries remain: {leftovers:?}"
    );
}

#[test]
fn a_second_writer_waits_and_then_says_who_holds_the_lock() {
    let sb = Sandbox::new();
    let v = sb.create();
    let id = identity_of(&v);
    drop(v);
    let _held = vault_core::store::lock(&sb.vault(), Duration::from_secs(1)).expect("lock");
    let mut opts = sb.opts();
    opts.lock_timeout = Duration::from_millis(200);
    let mut v =
        Vault::open(&sb.vault(), Unlock::Identity(&id), opts).expect("reading needs no lock");
    match v.add(new_bot("a", "AKEY-locked-0000001", "SECRET-locked-01")) {
        Err(Error::Locked { holder }) => assert!(holder.unwrap_or_default().contains("pid")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_deleted_audit_log_line_is_detected() {
    let sb = Sandbox::new();
    let mut v = sb.create();
    v.add(new_bot("a", "AKEY-log-0000000001", "SECRET-log-000001"))
        .expect("add");
    v.add(new_bot("b", "AKEY-log-0000000002", "SECRET-log-000002"))
        .expect("add");
    assert!(v.verify_log().problems.is_empty());
    let log = vault_core::audit_log::log_path(&sb.vault());
    let text = std::fs::read_to_string(&log).expect("log");
    assert!(!text.contains("SECRET-log"), "the log must hold no secret");
    let lines: Vec<&str> = text.lines().collect();
    std::fs::write(&log, format!("{}\n{}\n", lines[0], lines[2])).expect("rewrite");
    assert!(!v.verify_log().problems.is_empty());
    std::fs::write(&log, format!("{}\n{}\n", lines[0], lines[1])).expect("truncate");
    assert!(
        !v.verify_log().problems.is_empty(),
        "truncation must be detected by the anchor"
    );
}

#[test]
fn secrets_never_appear_in_debug_output() {
    let sb = Sandbox::new();
    let mut v = sb.create();
    v.add(new_bot(
        "a",
        "CANARY-debug-key-0001",
        "CANARY-debug-secret-01",
    ))
    .expect("add");
    let shown = format!(
        "{v:?} {:?} {:?}",
        v.bot("a").expect("a"),
        vault_core::Credentials::from_bot(v.bot("a").expect("a"))
    );
    assert!(!shown.contains("CANARY"), "{shown}");
}

/// Threat 3 (c), ALICE-lite: the syscalls of a real write come in the order the recipe needs:
/// log entry synced, temp file created exclusively and fsynced, read back, renamed over the
/// vault, then the directory fsynced, and only then the rollback record.
#[test]
fn a_write_syncs_the_temp_file_before_the_rename_and_the_directory_after() {
    let Some(strace) = require_program(
        "strace",
        "a_write_syncs_the_temp_file_before_the_rename_and_the_directory_after",
    ) else {
        return;
    };
    let c = Cli::new();
    c.add("alpha", "STRACEKEY0000000001", "STRACESECRET000001");
    let mut cmd = Command::new(strace);
    cmd.args([
        "-f",
        "-e",
        "trace=openat,fsync,fdatasync,rename,renameat,renameat2,link,linkat",
    ])
    .arg(vault_bin())
    .args(["set", "alpha", "--note", "traced"])
    .env("VAULT_PATH", c.vault())
    .env("XDG_STATE_HOME", c.sb.path().join("state"))
    .env("VAULT_PASSPHRASE_FILE", c.pass_file());
    let out = cmd.output().expect("strace");
    assert!(out.status.success());
    let trace = String::from_utf8_lossy(&out.stderr);
    // `strace -f` prefixes other threads' lines with "[pid N] ".
    let lines: Vec<&str> = trace
        .lines()
        .map(|l| {
            if l.starts_with("[pid ") {
                l.split_once("] ").map_or(l, |(_, r)| r)
            } else {
                l
            }
        })
        .collect();
    let pos = |pred: &dyn Fn(&str) -> bool, after: usize| {
        lines
            .iter()
            .enumerate()
            .skip(after)
            .find(|(_, l)| pred(l))
            .map(|(i, _)| i)
    };
    let log_sync = pos(&|l| l.starts_with("fdatasync("), 0).expect("the log entry is synced");
    let tmp_open = pos(
        &|l| l.contains(".vault.age.tmp-") && l.contains("O_CREAT|O_EXCL"),
        0,
    )
    .expect("exclusive temp");
    let fd = lines[tmp_open]
        .rsplit("= ")
        .next()
        .expect("fd")
        .trim()
        .to_string();
    let tmp_sync = pos(&|l| l.starts_with(&format!("fsync({fd})")), tmp_open).expect("temp fsync");
    let read_back = pos(
        &|l| l.contains(".vault.age.tmp-") && l.contains("O_RDONLY"),
        tmp_sync,
    )
    .expect("read back");
    let rename = pos(
        &|l| l.starts_with("rename") && l.contains("/vault.age\""),
        read_back,
    )
    .expect("rename");
    let dir_open = pos(
        &|l| {
            l.contains("O_DIRECTORY")
                || (l.starts_with("openat") && l.contains("/vault\", O_RDONLY"))
        },
        rename,
    )
    .expect("dir open");
    let dir_fd = lines[dir_open]
        .rsplit("= ")
        .next()
        .expect("fd")
        .trim()
        .to_string();
    let dir_sync =
        pos(&|l| l.starts_with(&format!("fsync({dir_fd})")), dir_open).expect("dir fsync");
    let record = pos(
        &|l| l.contains("/generations/") && l.contains("O_CREAT|O_EXCL"),
        dir_sync,
    )
    .expect("record after");
    assert!(
        log_sync < tmp_open
            && tmp_open < tmp_sync
            && tmp_sync < read_back
            && read_back < rename
            && rename < dir_sync
            && dir_sync < record,
        "{trace}"
    );
}

/// Format 2's trailer MAC is of the headers and the chunks' tags under a key of its own,
/// format 1's of every byte; their checksums differ too (CRC-32, SHA-256). A file relabelled
/// from one version to the other, its checksum made right for the new label, must not open:
/// it is refused as damaged (the other layout does not fit) or as tampered (the other MAC).
#[test]
fn a_file_relabelled_to_the_other_format_version_never_opens() {
    let refused =
        |bytes: &[u8], sb: &Sandbox, unlock: &dyn Fn(&VaultFile) -> Result<Vault, Error>| {
            let t = sb.path().join("t.age");
            write_raw(&t, bytes);
            for f in [
                VaultFile::read(&t, sb.opts()),
                VaultFile::read_to_unlock(&t, sb.opts()),
            ] {
                match f {
                    Err(e) => assert!(matches!(e, Error::Corrupted(_) | Error::Tampered), "{e:?}"),
                    Ok(f) => {
                        let r = unlock(&f);
                        assert!(
                            matches!(r, Err(Error::Tampered) | Err(Error::Corrupted(_))),
                            "{:?}",
                            r.map(|_| ())
                        );
                    }
                }
            }
        };
    let sb = Sandbox::new();
    let mut v = sb.create();
    v.add(new_bot("a", "AKEY-relabel-0000001", "SECRET-relabel-001"))
        .expect("add");
    let id = identity_of(&v);
    let full = read(&sb.vault());
    assert_eq!(full[8], format::VERSION);
    let mut b = full.clone();
    b[8] = format::VERSION_1;
    let b = with_checksum(b);
    refused(&b, &sb, &|f| f.unlock(Unlock::Identity(&id)));
    refused(&b, &sb, &|f| {
        f.unlock(Unlock::Passphrase(&pass(PASSPHRASE)))
    });
    // The same layout relabelled (format 1's 32-byte checksum in place of format 2's): the
    // MAC is then checked as format 1's, over every byte, and fails.
    let mut b = full[..full.len() - 4].to_vec();
    b[8] = format::VERSION_1;
    b.extend_from_slice(&[0; 32]);
    let b = with_checksum(b);
    refused(&b, &sb, &|f| f.unlock(Unlock::Identity(&id)));
    // The format-1 fixture (tests/fixtures/format-v1) opens as it is, and not relabelled 2.
    let fixture =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/format-v1/vault.age"))
            .expect("fixture");
    assert_eq!(fixture[8], format::VERSION_1);
    let t = sb.path().join("t.age");
    write_raw(&t, &fixture);
    let f = VaultFile::read(&t, sb.opts()).expect("fixture");
    let opened = f
        .unlock(Unlock::Passphrase(&pass(PASSPHRASE)))
        .expect("a format-1 vault opens");
    assert_eq!(opened.bots().count(), 2);
    for keep in [fixture.len(), fixture.len() - 28] {
        let mut b = fixture[..keep].to_vec();
        b[8] = format::VERSION;
        let b = with_checksum(b);
        refused(&b, &sb, &|f| {
            f.unlock(Unlock::Passphrase(&pass(PASSPHRASE)))
        });
    }
}
