//! The benchmark harness's own tool (bench/run builds and runs it), kept out of the appliance:
//!
//!   bench_seed seed <data-dir> <out-dir> [--small|--huge]   a large, realistic dataset written straight
//!       into a fresh database in one transaction (the services would take minutes for a million
//!       messages), with bearer tokens whose plain values go to files for the load tool;
//!   bench_seed raw <data-dir> <count>                scenario R, the raw insert baseline.
//!
//! It writes rows the way the migrations define them and lets the application's own search
//! indexing (`index_queued_messages`) index them, so what the server reads is what it would write.

use std::io::Write;
use std::path::Path;

use chrono::{Duration, Utc};
use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rusqlite::params;

use parley::auth::session::hash_token;

/// Platform admins (they watch the live streams of scenario L; none of its messages is theirs).
const ADMINS: i64 = 5;

#[derive(Debug, Clone, Copy)]
struct Sizes {
    pub stores: i64,
    pub staff: i64,
    pub customers: i64,
    pub conversations: i64,
    pub messages: i64,
}

impl Sizes {
    const DEFAULT: Sizes = Sizes {
        stores: 10,
        staff: 200,
        customers: 20_000,
        conversations: 50_000,
        messages: 1_000_000,
    };
    /// Ten times the default, for the scale target (10,000 → 10,000,000 messages).
    const HUGE: Sizes = Sizes {
        stores: 10,
        staff: 200,
        customers: 200_000,
        conversations: 500_000,
        messages: 10_000_000,
    };
    const SMALL: Sizes = Sizes {
        stores: 10,
        staff: 200,
        customers: 2_000,
        conversations: 500,
        messages: 10_000,
    };
}

/// Seeds `data_dir` (which must hold a migrated, empty database) and writes `staff_tokens.txt`,
/// `customer_tokens.txt` (token and a conversation id of theirs, per line) into `out`.
fn seed(data_dir: &Path, out: &Path, sizes: Sizes) -> anyhow::Result<()> {
    let mut conn = rusqlite::Connection::open(data_dir.join(parley::db::DB_FILE))?;
    conn.pragma_update(None, "synchronous", "OFF")?;
    // The load is one transaction into a fresh file: written straight into the database file
    // instead of into the WAL and then copied, which would write every page twice.
    conn.pragma_update(None, "journal_mode", "DELETE")?;
    // Messages arrive round by round over every conversation (below), each into its conversation's
    // pages: a cache that holds the whole table spares the load a read per message.
    conn.pragma_update(None, "cache_size", -512 * 1024)?;
    // Each message's INSERT keeps the old content of the pages it changes in a statement journal;
    // in one long transaction that journal, once a large statement (the search indexing) has
    // spilled it to a temporary file, stays a file: a write call per page of every message. In
    // memory, as the server keeps it, it costs a copy.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    let tx = conn.transaction()?;
    // Checked before the token files are opened, so a second run cannot empty them.
    let stores: i64 = tx.query_row("SELECT count(*) FROM stores", [], |r| r.get(0))?;
    anyhow::ensure!(
        stores == 0,
        "{} already holds data; seeding needs an empty data directory",
        data_dir.display()
    );
    let hash =
        parley::auth::password::hash_now("bench-password").map_err(|e| anyhow::anyhow!("{e}"))?;
    let now = Utc::now();
    let expires = now + Duration::days(7);
    let mut staff_tokens = std::fs::File::create(out.join("staff_tokens.txt"))?;
    let mut customer_tokens = std::fs::File::create(out.join("customer_tokens.txt"))?;
    // Who is who, for the live-stream scenario (bench_live): `admin <token>`,
    // `staff <token> <store>`, `customer <token> <customer_id> <conversation_id> <store>`.
    let mut parties_file = std::fs::File::create(out.join("live_parties.txt"))?;
    for s in 1..=sizes.stores {
        tx.execute(
            "INSERT INTO stores (id, code, name, tier) VALUES (?1, ?2, ?3, 'business')",
            params![s, format!("store-{s}"), format!("Store {s}")],
        )?;
    }
    {
        let mut user = tx.prepare("INSERT INTO users (id, email, password_hash, full_name, role, store_id) VALUES (?1, ?2, ?3, ?4, 'store', ?5)")?;
        let mut session = tx.prepare("INSERT INTO sessions (token_hash, kind, user_id, customer_id, expires_at) VALUES (?1, 'bearer', ?2, ?3, ?4)")?;
        for u in 1..=sizes.staff {
            let store = (u - 1) % sizes.stores + 1;
            user.execute(params![
                u,
                format!("staff{u}@bench.test"),
                hash,
                format!("Staff {u}"),
                store
            ])?;
            let token = format!("bench-staff-{u}");
            session.execute(params![hash_token(&token), u, Option::<i64>::None, expires])?;
            writeln!(staff_tokens, "{token}")?;
            writeln!(parties_file, "staff {token} {store}")?;
        }
        let mut admin = tx.prepare("INSERT INTO users (id, email, password_hash, full_name, role) VALUES (?1, ?2, ?3, ?4, 'admin')")?;
        for a in 1..=ADMINS {
            let id = sizes.staff + a;
            admin.execute(params![
                id,
                format!("admin{a}@bench.test"),
                hash,
                format!("Admin {a}")
            ])?;
            let token = format!("bench-admin-{a}");
            session.execute(params![
                hash_token(&token),
                id,
                Option::<i64>::None,
                expires
            ])?;
            writeln!(parties_file, "admin {token}")?;
        }
        let mut customer = tx.prepare("INSERT INTO customers (id, store_id, email, password_hash, full_name) VALUES (?1, ?2, ?3, ?4, ?5)")?;
        for c in 1..=sizes.customers {
            let store = (c - 1) % sizes.stores + 1;
            customer.execute(params![
                c,
                store,
                format!("customer{c}@bench.test"),
                hash,
                format!("Customer {c}")
            ])?;
        }
    }
    let per_conversation = (sizes.messages / sizes.conversations).max(1);
    let mut text = Text::new()?;
    {
        let mut conversation = tx.prepare(
            "INSERT INTO conversations (id, conversation_type, subject, store_id, last_message_at, last_activity_at, message_count, created_at, updated_at)
             VALUES (?1, 'store_customer', ?2, ?3, ?4, ?4, ?5, ?6, ?6)",
        )?;
        let mut participant = tx.prepare(
            "INSERT INTO conversation_participants (conversation_id, participant_type, participant_id, store_id, unread_count)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        let mut session = tx.prepare("INSERT INTO sessions (token_hash, kind, user_id, customer_id, expires_at) VALUES (?1, 'bearer', ?2, ?3, ?4)")?;
        let mut tokened = std::collections::HashSet::new();
        for id in 1..=sizes.conversations {
            let (customer_id, store, staff_id) = parties(sizes, id);
            let last = now - Duration::minutes(sizes.conversations - id);
            conversation.execute(params![
                id,
                text.subject(id),
                store,
                last,
                per_conversation,
                last - Duration::days(1)
            ])?;
            participant.execute(params![id, "store", staff_id, store, 0])?;
            participant.execute(params![id, "customer", customer_id, store, 1])?;
            if tokened.insert(customer_id) {
                let token = format!("bench-customer-{customer_id}");
                session.execute(params![
                    hash_token(&token),
                    Option::<i64>::None,
                    customer_id,
                    expires
                ])?;
                writeln!(customer_tokens, "{token} {id}")?;
                writeln!(parties_file, "customer {token} {customer_id} {id} {store}")?;
            }
        }
    }
    {
        // Round by round over all conversations, as messages arrive in real life: ids grow with
        // time across conversations, and each conversation's pages fill the way interleaved
        // arrivals fill them, not packed as a sorted load would pack them.
        let mut message = tx.prepare(
            "INSERT INTO messages (id, conversation_id, sender_type, sender_id, content, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
        )?;
        let mut preview = tx.prepare(
            "UPDATE conversations SET last_message_preview = substr(?2, 1, ?3) WHERE id = ?1",
        )?;
        for n in 0..per_conversation {
            for id in 1..=sizes.conversations {
                let (customer_id, _, staff_id) = parties(sizes, id);
                let (kind, sender) = if n % 2 == 0 {
                    ("store", staff_id)
                } else {
                    ("customer", customer_id)
                };
                let content = text.message();
                let at = now
                    - Duration::minutes(sizes.conversations - id)
                    - Duration::seconds(per_conversation - n);
                let message_id = n * sizes.conversations + id;
                message.execute(params![message_id, id, kind, sender, content, at])?;
                if n == per_conversation - 1 {
                    preview.execute(params![id, content, parley::messaging::PREVIEW_CHARS])?;
                }
            }
            // Round by round, so the next round reuses the queue's pages.
            parley::messaging::search::index_queued_messages(&tx)?;
        }
    }
    tx.commit()?;
    // The search index as the server leaves it after a quiet moment (`jobs::when_quiet`): FTS5
    // merges a bulk load's segments only in part as it writes (31 of them at ten million).
    let tx = conn.transaction()?;
    while parley::messaging::search::merge_step(&tx)? {}
    tx.commit()?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // No ANALYZE: the server never runs it either, so its plans come from the query shapes (checked
    // by the EXPLAIN QUERY PLAN test), and with STAT4 statistics SQLite would re-prepare every
    // statement whose plan might depend on a bound value, on every execution.
    // The search scenario's words, each with how many messages contain it.
    let mut search_words = std::fs::File::create(out.join("search_words.txt"))?;
    for (word, _) in SEARCH_WORDS {
        let matches: i64 = conn.query_row(
            "SELECT count(*) FROM message_search WHERE message_search MATCH ?1",
            [word],
            |r| r.get(0),
        )?;
        writeln!(search_words, "{word} {matches}")?;
    }
    Ok(())
}

/// Conversation `id`'s customer, store and staff member.
fn parties(sizes: Sizes, id: i64) -> (i64, i64, i64) {
    let customer_id = (id - 1) % sizes.customers + 1;
    let store = (customer_id - 1) % sizes.stores + 1;
    let staff_id = store + sizes.stores * (id % (sizes.staff / sizes.stores).max(1));
    (customer_id, store, staff_id.min(sizes.staff))
}

/// Message text with the word frequencies of real language: a vocabulary of 3,000 words drawn
/// with Zipf's law (the word of rank r with weight 1/r), so a few words are in a large share of
/// messages and most are rare. The words the search scenario looks for sit at known ranks.
struct Text {
    vocabulary: Vec<String>,
    ranks: WeightedIndex<f64>,
    rng: StdRng,
}

/// Real words at the top of the vocabulary, in rank order.
const COMMON_WORDS: &[&str] = &[
    "the", "order", "i", "you", "is", "it", "to", "my", "and", "a", "thanks", "hello", "can",
    "please", "when", "for", "parcel", "size", "colour", "question",
];

/// The words the search scenario looks for, with their ranks: from a frequent word to rare ones.
const SEARCH_WORDS: &[(&str, usize)] = &[
    ("refund", 150),
    ("invoice", 300),
    ("delivery", 600),
    ("lamp", 1200),
    ("warranty", 2400),
];

impl Text {
    const WORDS: usize = 3_000;

    fn new() -> anyhow::Result<Text> {
        const SYLLABLES: &[&str] = &[
            "ka", "lo", "mi", "ren", "tas", "vo", "du", "pel", "sor", "fin", "ga", "ble", "tor",
            "mu", "zen", "qui", "ra", "nos", "pi", "wel",
        ];
        let mut vocabulary: Vec<String> = COMMON_WORDS.iter().map(|w| w.to_string()).collect();
        let mut n = 0;
        while vocabulary.len() < Self::WORDS {
            let rank = vocabulary.len() + 1;
            if let Some((word, _)) = SEARCH_WORDS.iter().find(|(_, r)| *r == rank) {
                vocabulary.push(word.to_string());
                continue;
            }
            let word: String = [n % 20, (n / 20) % 20, (n / 400) % 20]
                .iter()
                .map(|&i| SYLLABLES[i])
                .collect();
            vocabulary.push(word);
            n += 1;
        }
        let weights = (1..=Self::WORDS).map(|rank| 1.0 / rank as f64);
        Ok(Text {
            vocabulary,
            ranks: WeightedIndex::new(weights)?,
            rng: StdRng::seed_from_u64(7),
        })
    }

    fn words(&mut self, count: usize) -> String {
        let words: Vec<&str> = (0..count)
            .map(|_| self.vocabulary[self.ranks.sample(&mut self.rng)].as_str())
            .collect();
        words.join(" ")
    }

    /// 6 to 16 words.
    fn message(&mut self) -> String {
        let count = self.rng.random_range(6..=16);
        self.words(count)
    }

    fn subject(&mut self, id: i64) -> String {
        format!("{} #{id}", self.words(3))
    }
}

/// The raw baseline (scenario R): the same message insert and counter updates a send does, straight
/// through rusqlite with the server's pragmas, one transaction per message, no HTTP. Returns
/// messages per second.
fn raw_send_rate(data_dir: &Path, count: i64) -> anyhow::Result<f64> {
    let mut conn = rusqlite::Connection::open(data_dir.join(parley::db::DB_FILE))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    let conversations: i64 =
        conn.query_row("SELECT max(id) FROM conversations", [], |r| r.get(0))?;
    let started = std::time::Instant::now();
    for n in 0..count {
        let id = n % conversations + 1;
        let now = Utc::now();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.prepare_cached("INSERT INTO messages (id, conversation_id, sender_type, sender_id, content, created_at, updated_at) VALUES ((SELECT coalesce(max(id), 0) + 1 FROM messages), ?1, 'customer', 1, 'raw baseline message', ?2, ?2)")?
            .execute(params![id, now])?;
        tx.prepare_cached("UPDATE conversations SET message_count = message_count + 1, last_message_at = ?2, last_activity_at = ?2, updated_at = ?2, last_message_preview = 'raw baseline message' WHERE id = ?1")?
            .execute(params![id, now])?;
        tx.prepare_cached("UPDATE conversation_participants SET unread_count = unread_count + 1 WHERE conversation_id = ?1 AND participant_type <> 'customer'")?
            .execute([id])?;
        parley::messaging::search::index_queued_messages(&tx)?;
        tx.commit()?;
    }
    Ok(count as f64 / started.elapsed().as_secs_f64())
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["seed", data_dir, out, rest @ ..] => {
            let data_dir = Path::new(data_dir);
            let sizes = match rest {
                ["--small"] => Sizes::SMALL,
                ["--huge"] => Sizes::HUGE,
                _ => Sizes::DEFAULT,
            };
            let started = std::time::Instant::now();
            std::fs::create_dir_all(data_dir)?;
            parley::db::open_and_migrate(&data_dir.join(parley::db::DB_FILE))?;
            seed(data_dir, Path::new(out), sizes)?;
            println!(
                "seeded {sizes:?} in {:.1} s",
                started.elapsed().as_secs_f64()
            );
        }
        ["raw", data_dir, count] => {
            println!("{:.0}", raw_send_rate(Path::new(data_dir), count.parse()?)?);
        }
        _ => anyhow::bail!(
            "usage: bench_seed seed <data-dir> <out-dir> [--small] | raw <data-dir> <count>"
        ),
    }
    Ok(())
}
