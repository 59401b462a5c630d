//! Applying one finalized block's updates inside one write transaction.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use redb::{ReadableTable, Table, WriteTransaction};
use tracechain_epcis::hash_id_from_digest;

use crate::canon;
use crate::codec::{
    ActionCode, EventRecord, Kind, Posting, RecallRecord, encode_name, hash_key,
    mark_first_posting_in_error, name_key, push_first_posting,
};
use crate::error::{IndexError, corrupt, hex};
use crate::model::{BlockUpdate, CHILD_ROLES, IndexedEvent, RoleSet};
use crate::pages::{self, Appender};
use crate::runs::RunWriter;
use crate::schema::*;
use crate::time_runs::TimeRunWriter;

/// Ids of the names nearly every event repeats (vocabulary, locations,
/// organisations, GTIN classes), as committed: interning them from memory
/// instead of the `strings` B-tree took a tenth of the indexer's time.
pub(crate) type HotNames = HashMap<String, u64>;
/// Past this many hot names the map starts over (a chain with unbounded
/// distinct locations must not grow it forever).
pub(crate) const HOT_NAMES_MAX: usize = 65_536;

/// The tables a block touches, opened once per block, and the counters
/// (written back to `META` at the end of the block).
pub(crate) struct BlockWriter<'t> {
    meta: Table<'t, &'static str, u64>,
    strings: Table<'t, (u64, u64), ()>,
    string_by_id: Table<'t, u64, &'static [u8]>,
    events: Table<'t, u64, &'static [u8]>,
    event_json: Table<'t, u64, &'static [u8]>,
    event_by_hash: Table<'t, (u64, u64), ()>,
    by_ident: Table<'t, (u64, u64), [u8; crate::codec::POSTING_LEN]>,
    first_postings: Table<'t, u64, &'static [u8]>,
    by_class: RunWriter<'t>,
    by_biz_step: RunWriter<'t>,
    by_biz_location: RunWriter<'t>,
    by_read_point: RunWriter<'t>,
    by_org: RunWriter<'t>,
    by_transformation: RunWriter<'t>,
    by_type: RunWriter<'t>,
    by_action: RunWriter<'t>,
    by_time: TimeRunWriter<'t>,
    errors: Table<'t, &'static [u8; 32], &'static [u8; 32]>,
    recalls: Table<'t, (u64, u64), &'static [u8]>,
    /// The last packed values of `events` and `event_json`, written at the
    /// end of the block.
    records: Appender,
    jsons: Appender,
    /// The last packed values of `string_by_id` and `first_postings`.
    names: Appender,
    firsts: Appender,
    /// The first id this transaction interned: postings of ids from here on
    /// go to `first_postings`.
    first_fresh_string: u64,
    next_seq: u64,
    next_string: u64,
    next_recall: u64,
    hot: &'t HotNames,
    /// Hot names this transaction looked up or allocated: they join `hot`
    /// once it commits.
    fresh_hot: HotNames,
}

impl<'t> BlockWriter<'t> {
    pub(crate) fn open(txn: &'t WriteTransaction, hot: &'t HotNames) -> Result<Self, IndexError> {
        let meta = txn.open_table(META)?;
        let counter = |name: &str, first: u64| -> Result<u64, IndexError> {
            Ok(meta.get(name)?.map_or(first, |v| v.value()))
        };
        let next_seq = counter(META_NEXT_SEQ, 0)?;
        let next_string = counter(META_NEXT_STRING, 1)?;
        let next_recall = counter(META_NEXT_RECALL, 0)?;
        Ok(BlockWriter {
            strings: txn.open_table(STRINGS)?,
            string_by_id: txn.open_table(STRING_BY_ID)?,
            events: txn.open_table(EVENTS)?,
            event_json: txn.open_table(EVENT_JSON)?,
            event_by_hash: txn.open_table(EVENT_BY_HASH)?,
            by_ident: txn.open_table(BY_IDENT)?,
            first_postings: txn.open_table(FIRST_POSTINGS)?,
            by_class: RunWriter::open(txn, BY_CLASS)?,
            by_biz_step: RunWriter::open(txn, BY_BIZ_STEP)?,
            by_biz_location: RunWriter::open(txn, BY_BIZ_LOCATION)?,
            by_read_point: RunWriter::open(txn, BY_READ_POINT)?,
            by_org: RunWriter::open(txn, BY_ORG)?,
            by_transformation: RunWriter::open(txn, BY_TRANSFORMATION)?,
            by_type: RunWriter::open(txn, BY_TYPE)?,
            by_action: RunWriter::open(txn, BY_ACTION)?,
            by_time: TimeRunWriter::open(txn, BY_TIME)?,
            errors: txn.open_table(ERRORS)?,
            recalls: txn.open_table(RECALLS)?,
            meta,
            // First guesses of how well each compresses (two hashes per
            // record do not; captured JSON repeats itself).
            records: Appender::compressing(0.75),
            jsons: Appender::compressing(0.15),
            names: Appender::front_coded(),
            firsts: Appender::new(),
            first_fresh_string: next_string,
            next_seq,
            next_string,
            next_recall,
            hot,
            fresh_hot: HotNames::new(),
        })
    }

    pub(crate) fn apply(&mut self, height: u64, updates: &[BlockUpdate]) -> Result<(), IndexError> {
        for update in updates {
            match update {
                BlockUpdate::Event(e) => self.insert_event(e)?,
                BlockUpdate::DeclaredInError {
                    original,
                    declaration,
                } => self.declare_in_error(original, declaration)?,
                BlockUpdate::Recalled {
                    identifier,
                    by_tx,
                    reason,
                } => self.record_recall(height, identifier, by_tx, reason)?,
            }
        }
        self.meta.insert(META_HEIGHT, height)?;
        Ok(())
    }

    /// Writes what the applied blocks left in memory: the last packed
    /// values and the counters. Call once, after the last block; returns
    /// the hot names to remember once the transaction commits.
    pub(crate) fn finish(mut self) -> Result<HotNames, IndexError> {
        self.records.flush(&mut self.events)?;
        self.jsons.flush(&mut self.event_json)?;
        self.names.flush(&mut self.string_by_id)?;
        self.firsts.flush(&mut self.first_postings)?;
        for filter in [
            &mut self.by_class,
            &mut self.by_biz_step,
            &mut self.by_biz_location,
            &mut self.by_read_point,
            &mut self.by_org,
            &mut self.by_transformation,
            &mut self.by_type,
            &mut self.by_action,
        ] {
            filter.flush()?;
        }
        self.by_time.flush()?;
        self.meta.insert(META_NEXT_SEQ, self.next_seq)?;
        self.meta.insert(META_NEXT_STRING, self.next_string)?;
        self.meta.insert(META_NEXT_RECALL, self.next_recall)?;
        Ok(self.fresh_hot)
    }

    /// [`BlockWriter::intern`] for a name many events repeat.
    fn intern_hot(&mut self, s: &str) -> Result<u64, IndexError> {
        if let Some(&id) = self.hot.get(s).or_else(|| self.fresh_hot.get(s)) {
            return Ok(id);
        }
        let id = self.intern(s)?;
        self.fresh_hot.insert(s.to_owned(), id);
        Ok(id)
    }

    /// The id of `s`, allocating one the first time it is seen.
    fn intern(&mut self, s: &str) -> Result<u64, IndexError> {
        let stored = encode_name(s);
        let key = name_key(&stored);
        for id in candidates(&self.strings, key)? {
            if self.stored_name(id)? == stored.as_bytes() {
                return Ok(id);
            }
        }
        let id = self.next_string;
        self.next_string += 1;
        self.strings.insert((key, id), ())?;
        self.names
            .push(&mut self.string_by_id, id, stored.into_bytes())?;
        self.firsts.push(&mut self.first_postings, id, Vec::new())?;
        Ok(id)
    }

    /// The stored form of name `id`, written or still pending.
    fn stored_name(&mut self, id: u64) -> Result<Vec<u8>, IndexError> {
        if let Some(pending) = self.names.get_mut(id) {
            return Ok(pending.clone());
        }
        pages::read(&self.string_by_id, id)?.ok_or_else(|| corrupt(format!("string {id} missing")))
    }

    /// The seq of the event with `hash`, written or still pending.
    fn seq_of(&mut self, hash: &[u8; 32]) -> Result<Option<u64>, IndexError> {
        let key = hash_key(hash);
        for seq in candidates(&self.event_by_hash, key)? {
            let bytes = match self.records.get_mut(seq) {
                Some(pending) => pending.clone(),
                None => pages::read(&self.events, seq)?
                    .ok_or_else(|| corrupt(format!("event {seq} missing")))?,
            };
            if EventRecord::decode(&bytes)?.hash == *hash {
                return Ok(Some(seq));
            }
        }
        Ok(None)
    }

    /// [`BlockWriter::intern_hot`] of an optional vocabulary or location.
    fn intern_opt(&mut self, s: Option<&str>) -> Result<u64, IndexError> {
        s.map_or(Ok(0), |s| self.intern_hot(s))
    }

    fn insert_event(&mut self, e: &IndexedEvent) -> Result<(), IndexError> {
        let invalid = |reason: String| IndexError::InvalidEvent {
            hash: hex(&e.hash),
            reason,
        };
        let kind = Kind::from_name(&e.event_type)
            .ok_or_else(|| invalid(format!("unknown event type '{}'", e.event_type)))?;
        let action = match &e.action {
            None => None,
            Some(a) => Some(
                ActionCode::from_name(a).ok_or_else(|| invalid(format!("unknown action '{a}'")))?,
            ),
        };
        // No lookup of the hash first: the chain records an event hash at
        // most once (the executor rejects a second one), and blocks reach
        // the index once each.
        let seq = self.next_seq;
        self.next_seq += 1;
        self.event_by_hash.insert((hash_key(&e.hash), seq), ())?;

        let mut identifiers = Vec::with_capacity(e.identifiers.len());
        let mut roles_by_ident: BTreeMap<u64, RoleSet> = BTreeMap::new();
        let mut classes = BTreeSet::new();
        for (role, identifier) in &e.identifiers {
            let id = self.intern(identifier)?;
            if !identifiers.contains(&(*role, id)) {
                identifiers.push((*role, id));
            }
            roles_by_ident.entry(id).or_default().insert(*role);
            if let Some(class) = canon::gtin_class_of(identifier) {
                classes.insert(self.intern_hot(class)?);
            }
        }
        let lists_children = roles_by_ident.values().any(|r| r.intersects(CHILD_ROLES));
        let in_error = self.errors.get(&e.hash)?.is_some();
        let record = EventRecord {
            in_error,
            hash: e.hash,
            kind,
            action,
            event_time_ms: e.event_time_ms,
            height: e.height,
            block_time_ms: e.block_time_ms,
            tx: e.tx,
            biz_step: self.intern_opt(e.biz_step.as_deref())?,
            disposition: self.intern_opt(e.disposition.as_deref())?,
            read_point: self.intern_opt(e.read_point.as_deref())?,
            biz_location: self.intern_opt(e.biz_location.as_deref())?,
            organisation: self.intern_hot(&e.organisation)?,
            // One transformation's id names only its few events: not hot.
            transformation_id: match e.transformation_id.as_deref() {
                Some(id) => self.intern(id)?,
                None => 0,
            },
            // Most events carry their hash id: recompute it instead of
            // storing 80 bytes.
            event_id: (e.event_id != hash_id_from_digest(&e.hash)).then(|| e.event_id.clone()),
            identifiers,
        };

        self.records.push(&mut self.events, seq, record.encode())?;
        self.jsons.push(&mut self.event_json, seq, e.json.clone())?;
        for (&id, &roles) in &roles_by_ident {
            let posting = Posting {
                seq,
                roles,
                time: e.event_time_ms,
                kind,
                action,
                in_error,
                lists_children,
            };
            self.insert_posting(id, &posting)?;
        }
        for class in classes {
            self.by_class.push(class, seq);
        }
        for (table, id) in [
            (&mut self.by_biz_step, record.biz_step),
            (&mut self.by_biz_location, record.biz_location),
            (&mut self.by_read_point, record.read_point),
            (&mut self.by_org, record.organisation),
            (&mut self.by_transformation, record.transformation_id),
        ] {
            if id != 0 {
                table.push(id, seq);
            }
        }
        self.by_type.push(kind.code().into(), seq);
        if let Some(a) = action {
            self.by_action.push(ActionCode::code(Some(a)).into(), seq);
        }
        self.by_time.push(e.event_time_ms, seq);
        Ok(())
    }

    /// Files an identifier's posting: with its first postings if this
    /// transaction interned it, else in `by_ident`.
    fn insert_posting(&mut self, id: u64, posting: &Posting) -> Result<(), IndexError> {
        if id < self.first_fresh_string {
            self.by_ident.insert((id, posting.seq), posting.encode())?;
            return Ok(());
        }
        let mut encoded = Vec::with_capacity(crate::codec::POSTING_LEN + 4);
        push_first_posting(&mut encoded, posting);
        if !self.firsts.extend(id, &encoded) {
            pages::update(&mut self.first_postings, id, |item| {
                item.extend_from_slice(&encoded);
                Ok(())
            })?;
        }
        Ok(())
    }

    /// Marks identifier `id`'s posting of event `seq` as declared in error.
    fn mark_posting_in_error(&mut self, id: u64, seq: u64) -> Result<(), IndexError> {
        let found = self.by_ident.get((id, seq))?.map(|v| v.value());
        if let Some(mut posting) = found {
            Posting::mark_in_error(&mut posting);
            self.by_ident.insert((id, seq), posting)?;
            return Ok(());
        }
        let marked = match self.firsts.get_mut(id) {
            Some(item) => mark_first_posting_in_error(item, seq)?,
            None => {
                let mut marked = false;
                pages::update(&mut self.first_postings, id, |item| {
                    marked = mark_first_posting_in_error(item, seq)?;
                    Ok(())
                })?;
                marked
            }
        };
        if marked {
            Ok(())
        } else {
            Err(corrupt(format!("posting ({id}, {seq}) missing")))
        }
    }

    fn declare_in_error(
        &mut self,
        original: &[u8; 32],
        declaration: &[u8; 32],
    ) -> Result<(), IndexError> {
        // The first declaration wins; later ones change nothing.
        if self.errors.get(original)?.is_some() {
            return Ok(());
        }
        self.errors.insert(original, declaration)?;
        // An original not indexed (yet) is marked when it arrives.
        let Some(seq) = self.seq_of(original)? else {
            return Ok(());
        };
        let bytes = match self.records.get_mut(seq) {
            Some(pending) => {
                EventRecord::mark_in_error(pending)?;
                pending.clone()
            }
            None => {
                let mut marked = Vec::new();
                pages::update(&mut self.events, seq, |stored| {
                    EventRecord::mark_in_error(stored)?;
                    marked = stored.clone();
                    Ok(())
                })?;
                marked
            }
        };
        let record = EventRecord::decode(&bytes)?;
        let idents: BTreeSet<u64> = record.identifiers.iter().map(|(_, id)| *id).collect();
        for id in idents {
            self.mark_posting_in_error(id, seq)?;
        }
        Ok(())
    }

    fn record_recall(
        &mut self,
        height: u64,
        identifier: &str,
        by_tx: &[u8; 32],
        reason: &str,
    ) -> Result<(), IndexError> {
        let id = self.intern(&canon::identifier(identifier))?;
        let number = self.next_recall;
        self.next_recall += 1;
        let record = RecallRecord {
            height,
            by_tx: *by_tx,
            reason: reason.to_owned(),
        };
        self.recalls
            .insert((id, number), record.encode().as_slice())?;
        Ok(())
    }
}
