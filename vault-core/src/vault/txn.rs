//! The one write path. Every change, `init` included, goes through [`Vault::commit`]:
//!
//! 1. take the writer lock;
//! 2. re-read the file from disk and verify it with the identity we already hold (a new vault
//!    starts from its first header and body instead), refusing a rollback;
//! 3. apply the change to that fresh copy (a [`Draft`]);
//! 4. append the log entry, then move the generation past the highest seen on this machine;
//! 5. write atomically (the bytes are read back and verified before the rename);
//! 6. record the generation, and only then adopt the new header, body and keys.
//!
//! So concurrent writers never lose an update, a failed change leaves the `Vault` as it was,
//! and any one unlock method is enough to write: slots are carried over byte for byte, never
//! re-wrapped on an ordinary write.

use super::crypto::{decrypt_verified, open_with, seal_body, sealed_capacity, Keys};
use super::file::{file_mark, read_vault_bytes, read_vault_mark, refuse_rollback, FileMark};
use super::{entry, Vault};
use crate::audit_log;
use crate::error::{Error, Result};
use crate::format::{self, Header};
use crate::model::Body;
use crate::store::{self, GenerationRecord};

/// What the log entry of one write says.
pub(super) struct Change<'a> {
    /// The operation (`add`, `rotate`, `init`, ...).
    pub op: &'a str,
    /// The bot it concerns, if one.
    pub bot: Option<&'a str>,
    /// The short fingerprint of the key it concerns, if one.
    pub fp: Option<String>,
    /// The vault is new: there is no file to re-read, and a leftover log is moved aside.
    pub init: bool,
}

impl<'a> Change<'a> {
    /// A change to an existing vault.
    pub fn new(op: &'a str, bot: Option<&'a str>, fp: Option<String>) -> Change<'a> {
        Change {
            op,
            bot,
            fp,
            init: false,
        }
    }

    /// A change of the vault as a whole (no bot).
    pub fn vault(op: &'a str) -> Change<'a> {
        Change {
            op,
            bot: None,
            fp: None,
            init: false,
        }
    }
}

/// The fresh copy a change edits.
pub(super) struct Draft {
    pub header: Header,
    pub body: Body,
    /// A new identity (rekey): the body is encrypted to it and the recipient set from it.
    pub keys: Option<Keys>,
}

impl Vault {
    /// The transaction every write goes through (module docs).
    pub(super) fn commit<R>(
        &mut self,
        change: Change<'_>,
        f: impl FnOnce(&mut Draft) -> Result<R>,
    ) -> Result<R> {
        let _lock = store::lock(&self.path, self.opts.lock_timeout)?;
        let (header, body) = if change.init {
            (self.header.clone(), self.body.clone())
        } else {
            self.reread()?
        };
        let mut draft = Draft {
            header,
            body,
            keys: None,
        };
        let r = f(&mut draft)?;
        let Draft {
            mut header,
            body,
            keys,
        } = draft;
        if let Some(k) = &keys {
            header.recipient = k.recipient().to_string();
        }
        let (header, mark) =
            self.write(keys.as_ref().unwrap_or(&self.keys), header, &body, &change)?;
        self.header = header;
        self.file_mark = Some(mark);
        self.body = body;
        if let Some(k) = keys {
            self.keys = k;
        }
        Ok(r)
    }

    /// Reads the file again under the lock and verifies it with the identity we hold.
    ///
    /// When the file still has the length and checksum of the one this `Vault` last read or
    /// wrote, it is that file: every write makes a new checksum (its generation is new), so
    /// no other writer has written since. Then only its last 32 bytes are read, and nothing
    /// of it is used: the draft starts from the header and body we verified then. A file
    /// forged or damaged to end like ours is simply replaced by our next write.
    fn reread(&self) -> Result<(Header, Body)> {
        if let Some(mark) = self.file_mark {
            if mark == read_vault_mark(&self.path)? {
                refuse_rollback(&self.opts, &self.header)?;
                return Ok((self.header.clone(), self.body.clone()));
            }
        }
        let bytes = read_vault_bytes(&self.path)?;
        let parsed = format::parse(&bytes)?;
        if self.keys.recipient() != parsed.header.recipient {
            return Err(Error::ConcurrentRekey);
        }
        let body = open_with(&self.keys, &parsed, None)?;
        refuse_rollback(&self.opts, &parsed.header)?;
        Ok((parsed.header, body))
    }

    /// Steps 4-6 (the caller holds the lock): log entry first, then the vault anchoring it.
    /// Returns the header as written.
    fn write(
        &self,
        keys: &Keys,
        mut header: Header,
        body: &Body,
        change: &Change<'_>,
    ) -> Result<(Header, FileMark)> {
        // Past the highest generation seen here, not just past this file's: after
        // `--accept-rollback` restored an older copy, the first write moves it beyond the
        // record, so later plain commands open it without the flag.
        let seen = GenerationRecord::new(&self.opts.state_dir)
            .load(&header.vault_id)?
            .unwrap_or(0);
        header.generation = header
            .generation
            .max(seen)
            .checked_add(1)
            .ok_or(Error::Corrupted("generation overflow"))?;
        let log = audit_log::log_path(&self.path);
        if change.init {
            // A fresh vault starts a fresh log; a leftover log of a deleted vault is moved aside.
            if log.exists() {
                let _ = std::fs::rename(&log, log.with_extension("log.old"));
            }
        }
        let (count, head) = audit_log::append(
            &log,
            body.log_key.expose().as_bytes(),
            entry(
                change.op,
                change.bot,
                change.fp.clone(),
                Some(format!("generation {}", header.generation)),
            ),
            true,
        )?;
        header.log_count = count;
        header.log_head = head;
        // We hold the writer lock: temporaries left by a killed writer can go.
        store::remove_stale_temps(&self.path);
        // The body is serialized and encrypted straight into the file after its header.
        let header_bytes = format::encode_header(&header);
        let mut file = format::begin(&header_bytes, sealed_capacity(body.bots.len()));
        let plaintext = seal_body(keys, body, &mut file)?;
        format::finish(&mut file, header_bytes.len(), |content| {
            let (prefix, body) = content.split_at(header_bytes.len() + 4);
            keys.trailer(&header.vault_id, prefix, body)
        });
        // What is written must verify and decrypt to exactly what we encrypted. The check of
        // the assembled bytes runs on a second thread while the first writes and fsyncs them;
        // `atomic_write` compares the bytes read back with these, then waits for the check,
        // and renames only when both hold. The check does not hash the checksum again:
        // `format::finish` just computed it over these very bytes, and the read-back is
        // compared with them byte for byte.
        let check = || -> Result<()> {
            let parsed = format::reparse(&file)?;
            if plaintext.is(&decrypt_verified(keys, &parsed)?) {
                Ok(())
            } else {
                Err(Error::Corrupted(
                    "the file as assembled does not decrypt to what was encrypted",
                ))
            }
        };
        // A small file is not worth a thread.
        let written = std::thread::scope(|s| {
            let thread = if file.len() < crate::par::WORTH_A_THREAD {
                Err(())
            } else {
                std::thread::Builder::new()
                    .spawn_scoped(s, check)
                    .map_err(|_| ())
            };
            match thread {
                Ok(h) => store::atomic_write(&self.path, &file, change.init, || {
                    h.join()
                        .unwrap_or(Err(Error::Corrupted("the write check failed")))
                }),
                // Small, or no second thread to be had: check in line.
                Err(_) => store::atomic_write(&self.path, &file, change.init, check),
            }
        });
        if let Err(e) = written {
            // The entry above names a write that did not happen: say so in the log too
            // (a writer killed right here leaves no marker; `vault log` then shows an entry
            // past the header's anchor, which it reports as not anchored).
            let _ = audit_log::append(
                &log,
                body.log_key.expose().as_bytes(),
                entry(
                    "write-failed",
                    change.bot,
                    None,
                    Some(format!(
                        "generation {} ({}) was not written",
                        header.generation, change.op
                    )),
                ),
                true,
            );
            return Err(e);
        }
        GenerationRecord::new(&self.opts.state_dir).store(&header.vault_id, header.generation)?;
        Ok((header, file_mark(&file)))
    }
}
