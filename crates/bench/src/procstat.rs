//! Reading a process's memory and CPU time from `/proc`, and the
//! machine's CPU time from `/proc/stat`.
//!
//! RSS is `VmRSS` of `/proc/<pid>/status` (KiB). CPU time is `utime +
//! stime` of `/proc/<pid>/stat`, in clock ticks (`CLK_TCK`, 100 on Linux
//! unless `getconf CLK_TCK` says otherwise).

use std::fs;

/// One reading of one process.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProcSample {
    pub rss_kib: u64,
    /// User + system CPU time, in clock ticks.
    pub cpu_ticks: u64,
}

/// Reads `/proc/<pid>/status` and `/proc/<pid>/stat`; `None` once the
/// process is gone.
pub fn sample(pid: u32) -> Option<ProcSample> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    Some(ProcSample {
        rss_kib: rss_kib(&status)?,
        cpu_ticks: cpu_ticks(&stat)?,
    })
}

/// `VmRSS` in KiB from the text of `/proc/<pid>/status`.
pub fn rss_kib(status: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// `utime + stime` from the text of `/proc/<pid>/stat`. The command name
/// (field 2) may contain spaces and parentheses, so fields are counted
/// from the last `)`: after it come field 3 (state) ... 14 (utime), 15
/// (stime).
pub fn cpu_ticks(stat: &str) -> Option<u64> {
    let after = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Busy and total ticks of all CPUs from the text of `/proc/stat`
/// (idle and iowait are not busy).
pub fn machine_ticks(proc_stat: &str) -> Option<(u64, u64)> {
    let line = proc_stat.lines().find(|line| line.starts_with("cpu "))?;
    let values: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|field| field.parse().ok())
        .collect();
    if values.len() < 5 {
        return None;
    }
    // user nice system idle iowait irq softirq steal (guest is in user).
    let total: u64 = values.iter().take(8).sum();
    let idle = values[3] + values[4];
    Some((total - idle, total))
}

/// The machine's busy and total CPU ticks now.
pub fn machine() -> Option<(u64, u64)> {
    machine_ticks(&fs::read_to_string("/proc/stat").ok()?)
}

/// Clock ticks per second (`getconf CLK_TCK`, 100 if that fails).
pub fn clock_ticks_per_second() -> u64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .filter(|&ticks| ticks > 0)
        .unwrap_or(100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rss_is_read_from_status() {
        let status = "Name:\tnatter\nVmPeak:\t  900 kB\nVmRSS:\t   123456 kB\nThreads:\t3\n";
        assert_eq!(rss_kib(status), Some(123_456));
        assert_eq!(rss_kib("Name:\tx\n"), None);
    }

    #[test]
    fn cpu_time_survives_odd_command_names() {
        let stat = "4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 500 0 0 0 \
                    1234 567 0 0 20 0 3 0 100 1000000 250 18446744073709551615";
        assert_eq!(cpu_ticks(stat), Some(1234 + 567));
        assert_eq!(cpu_ticks("garbage"), None);
    }

    #[test]
    fn machine_ticks_leave_out_idle_and_iowait() {
        let proc_stat = "cpu  100 5 50 1000 20 3 2 0 0 0\ncpu0 1 2 3 4 5 6 7 8\n";
        assert_eq!(machine_ticks(proc_stat), Some((160, 1180)));
    }

    #[test]
    fn this_process_can_be_sampled() {
        let sample = sample(std::process::id()).expect("our own /proc entry");
        assert!(sample.rss_kib > 0);
    }
}
