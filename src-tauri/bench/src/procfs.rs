//! Readings from `/proc`: CPU time, resident memory and child processes (Linux only).

use std::fs;

/// Clock ticks per second for `/proc/*/stat` times; 100 on every Linux the project targets.
const CLOCK_TICKS: f64 = 100.0;

/// User + system CPU seconds of a process (`self` or a pid).
pub fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces; the fields after it are fixed.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / CLOCK_TICKS)
}

/// A `kB` line of `/proc/{pid}/status`, e.g. `VmHWM` (peak RSS) or `VmRSS`, in KiB.
pub fn status_kib(pid: &str, key: &str) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|line| {
        let value = line.strip_prefix(key)?.strip_prefix(':')?;
        value.split_whitespace().next()?.parse().ok()
    })
}

/// Proportional set size (shared pages split between their users), in KiB.
pub fn pss_kib(pid: u32) -> Option<u64> {
    let rollup = fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    rollup.lines().find_map(|line| {
        let value = line.strip_prefix("Pss:")?;
        value.split_whitespace().next()?.parse().ok()
    })
}

fn parent_of(pid: u32) -> Option<u32> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(1)?.parse().ok()
}

/// `root` and every process below it (WebKit's web and network processes for a Tauri app).
pub fn process_tree(root: u32) -> Vec<u32> {
    let all: Vec<(u32, u32)> = fs::read_dir("/proc")
        .map(|dir| {
            dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
                .filter_map(|pid| Some((pid, parent_of(pid)?)))
                .collect()
        })
        .unwrap_or_default();
    let mut tree = vec![root];
    let mut i = 0;
    while let Some(&pid) = tree.get(i) {
        tree.extend(all.iter().filter(|(_, ppid)| *ppid == pid).map(|(p, _)| *p));
        i += 1;
    }
    tree
}

/// Established TCP connections from any of `pids` to `port` on loopback: the sockets among the
/// processes' file descriptors that `/proc/net/tcp{,6}` lists as ESTABLISHED towards that port.
pub fn tcp_connections_to(pids: &[u32], port: u16) -> usize {
    let mut inodes = std::collections::HashSet::new();
    for pid in pids {
        let Ok(dir) = fs::read_dir(format!("/proc/{pid}/fd")) else {
            continue;
        };
        for entry in dir.flatten() {
            if let Ok(target) = fs::read_link(entry.path()) {
                if let Some(inode) = target
                    .to_str()
                    .and_then(|t| t.strip_prefix("socket:["))
                    .and_then(|t| t.strip_suffix(']'))
                {
                    inodes.insert(inode.to_owned());
                }
            }
        }
    }
    let port_hex = format!("{port:04X}");
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|table| fs::read_to_string(table).ok())
        .map(|text| {
            text.lines()
                .skip(1)
                .filter(|line| {
                    let f: Vec<&str> = line.split_whitespace().collect();
                    // sl local rem st tx:rx tr:when retrnsmt uid timeout inode
                    f.len() > 9
                        && f[3] == "01"
                        && f[2].rsplit(':').next() == Some(port_hex.as_str())
                        && inodes.contains(f[9])
                })
                .count()
        })
        .sum()
}
