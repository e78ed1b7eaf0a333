//! The little of DNS the sandbox's resolver needs (RFC 1035): reading a query's question,
//! answering it with addresses or an error code, building a query, and reading the addresses of
//! a response. Every input is hostile: lengths are checked, compression pointers are bounded.

use std::net::IpAddr;

pub const TYPE_A: u16 = 1;
pub const TYPE_AAAA: u16 = 28;
pub const RCODE_NOERROR: u8 = 0;
pub const RCODE_SERVFAIL: u8 = 2;
pub const RCODE_NXDOMAIN: u8 = 3;

/// A query's question.
#[derive(Debug, PartialEq, Eq)]
pub struct Question {
    pub id: u16,
    /// Lower case, without the final dot.
    pub name: String,
    pub qtype: u16,
    /// Where the question ends in the packet.
    end: usize,
}

fn u16_at(p: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*p.get(at)?, *p.get(at + 1)?]))
}

/// Reads a (possibly compressed) name at `at`; returns it and where it ends in place.
fn read_name(p: &[u8], mut at: usize) -> Option<(String, usize)> {
    let mut labels: Vec<String> = Vec::new();
    let mut end = None;
    let mut jumps = 0;
    loop {
        let len = usize::from(*p.get(at)?);
        if len & 0xc0 == 0xc0 {
            let ptr = usize::from(u16_at(p, at)? & 0x3fff);
            end.get_or_insert(at + 2);
            jumps += 1;
            if jumps > 16 {
                return None;
            }
            at = ptr;
            continue;
        }
        if len == 0 {
            end.get_or_insert(at + 1);
            break;
        }
        if len > 63 {
            return None;
        }
        let label = p.get(at + 1..at + 1 + len)?;
        labels.push(String::from_utf8_lossy(label).to_ascii_lowercase());
        if labels.iter().map(|l| l.len() + 1).sum::<usize>() > 255 {
            return None;
        }
        at += 1 + len;
    }
    Some((labels.join("."), end?))
}

/// The question of a standard query with one question, if `p` is one.
pub fn parse_query(p: &[u8]) -> Option<Question> {
    let id = u16_at(p, 0)?;
    let flags = u16_at(p, 2)?;
    // A query (QR 0), opcode QUERY, one question.
    if flags & 0x8000 != 0 || (flags >> 11) & 0xf != 0 || u16_at(p, 4)? != 1 {
        return None;
    }
    let (name, at) = read_name(p, 12)?;
    let qtype = u16_at(p, at)?;
    let _class = u16_at(p, at + 2)?;
    Some(Question {
        id,
        name,
        qtype,
        end: at + 4,
    })
}

/// The response to `query` (whose question is `q`): `rcode`, and the addresses of the asked
/// type among `addrs` as answers.
pub fn answer(query: &[u8], q: &Question, rcode: u8, addrs: &[IpAddr]) -> Vec<u8> {
    let records: Vec<&IpAddr> = addrs
        .iter()
        .filter(|a| match a {
            IpAddr::V4(_) => q.qtype == TYPE_A,
            IpAddr::V6(_) => q.qtype == TYPE_AAAA,
        })
        .collect();
    let mut out = Vec::with_capacity(q.end + records.len() * 28);
    out.extend_from_slice(&q.id.to_be_bytes());
    // QR, RD copied from the query, RA; the code.
    let rd = query.get(2).map_or(0, |b| b & 1);
    out.push(0x80 | rd);
    out.push(0x80 | (rcode & 0xf));
    out.extend_from_slice(&1u16.to_be_bytes());
    out.extend_from_slice(&(records.len() as u16).to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(&query[12..q.end]);
    for a in records {
        out.extend_from_slice(&[0xc0, 12]); // the question's name
        let (ty, data) = match a {
            IpAddr::V4(v) => (TYPE_A, v.octets().to_vec()),
            IpAddr::V6(v) => (TYPE_AAAA, v.octets().to_vec()),
        };
        out.extend_from_slice(&ty.to_be_bytes());
        out.extend_from_slice(&1u16.to_be_bytes()); // IN
        out.extend_from_slice(&60u32.to_be_bytes()); // TTL
        out.extend_from_slice(&(data.len() as u16).to_be_bytes());
        out.extend_from_slice(&data);
    }
    out
}

/// A recursive query for `name` of type `qtype`.
pub fn query(id: u16, name: &str, qtype: u16) -> Option<Vec<u8>> {
    let mut out = id.to_be_bytes().to_vec();
    out.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.trim_end_matches('.').split('.') {
        if label.is_empty() || label.len() > 63 {
            return None;
        }
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    out.extend_from_slice(&qtype.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes());
    Some(out)
}

/// The response code and the A/AAAA addresses of a response to query `id`.
pub fn parse_response(p: &[u8], id: u16) -> Option<(u8, Vec<IpAddr>)> {
    if u16_at(p, 0)? != id || u16_at(p, 2)? & 0x8000 == 0 {
        return None;
    }
    let rcode = (u16_at(p, 2)? & 0xf) as u8;
    let qd = u16_at(p, 4)?;
    let an = u16_at(p, 6)?;
    let mut at = 12;
    for _ in 0..qd {
        at = read_name(p, at)?.1 + 4;
    }
    let mut addrs = Vec::new();
    for _ in 0..an {
        at = read_name(p, at)?.1;
        let ty = u16_at(p, at)?;
        let len = usize::from(u16_at(p, at + 8)?);
        let data = p.get(at + 10..at + 10 + len)?;
        match (ty, len) {
            (TYPE_A, 4) => addrs.push(IpAddr::from(<[u8; 4]>::try_from(data).ok()?)),
            (TYPE_AAAA, 16) => addrs.push(IpAddr::from(<[u8; 16]>::try_from(data).ok()?)),
            _ => {}
        }
        at += 10 + len;
    }
    Some((rcode, addrs))
}

/// Whether `name` matches `pattern`: the same name, or `*.suffix` for any name under suffix.
pub fn name_matches(pattern: &str, name: &str) -> bool {
    let (p, n) = (pattern.to_ascii_lowercase(), name.to_ascii_lowercase());
    let (p, n) = (p.trim_end_matches('.'), n.trim_end_matches('.'));
    match p.strip_prefix("*.") {
        Some(suffix) => n.len() > suffix.len() && n.ends_with(&format!(".{suffix}")),
        None => p == n,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_answer_round_trip() {
        let q = query(0x1234, "Web.Test", TYPE_A).unwrap();
        let parsed = parse_query(&q).unwrap();
        assert_eq!(parsed.name, "web.test");
        assert_eq!(parsed.qtype, TYPE_A);
        let addrs = ["10.0.0.2".parse().unwrap(), "::1".parse().unwrap()];
        let r = answer(&q, &parsed, RCODE_NOERROR, &addrs);
        let (rcode, got) = parse_response(&r, 0x1234).unwrap();
        assert_eq!(rcode, 0);
        assert_eq!(got, vec![addrs[0]]);
        let nx = answer(&q, &parsed, RCODE_NXDOMAIN, &[]);
        assert_eq!(parse_response(&nx, 0x1234), Some((3, vec![])));
    }

    #[test]
    fn hostile_packets_are_refused() {
        assert_eq!(parse_query(&[]), None);
        assert_eq!(parse_query(&[0; 11]), None);
        // A compression loop.
        let mut p = query(1, "a", TYPE_A).unwrap();
        p[12] = 0xc0;
        p[13] = 12;
        assert_eq!(parse_query(&p), None);
        // A label running past the end.
        let mut p = query(1, "abc", TYPE_A).unwrap();
        p[12] = 60;
        assert_eq!(parse_query(&p), None);
        assert_eq!(parse_response(&[0xff; 40], 1), None);
    }

    #[test]
    fn patterns() {
        assert!(name_matches("example.org", "EXAMPLE.org."));
        assert!(!name_matches("example.org", "a.example.org"));
        assert!(name_matches("*.pypi.org", "files.pypi.org"));
        assert!(!name_matches("*.pypi.org", "pypi.org"));
        assert!(!name_matches("*.pypi.org", "evilpypi.org"));
    }
}
