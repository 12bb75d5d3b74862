//! The host and tierbench's own process, from sysinfo: recorded so results say where they came from.

use sysinfo::{ProcessRefreshKind, ProcessesToUpdate, RefreshKind, System};

use super::result::{HostInfo, ProcessInfo};

/// Describes the machine.
pub fn host_info() -> HostInfo {
    let unknown = || "unknown".to_string();
    let system = System::new_with_specifics(
        RefreshKind::nothing()
            .with_cpu(sysinfo::CpuRefreshKind::nothing())
            .with_memory(sysinfo::MemoryRefreshKind::nothing().with_ram()),
    )
    .ok();
    HostInfo {
        os: System::long_os_version().unwrap_or_else(|_| unknown()),
        kernel: System::kernel_version().unwrap_or_else(|_| unknown()),
        cpu_model: system
            .as_ref()
            .and_then(|s| s.cpus().first().map(|c| c.brand().trim().to_string()))
            .filter(|b| !b.is_empty())
            .unwrap_or_else(unknown),
        cores: system.as_ref().map_or(0, |s| s.cpus().len()),
        memory_bytes: system.as_ref().map_or(0, System::total_memory),
    }
}

/// Samples this process's RSS and CPU time; keeps the highest RSS seen.
pub struct ProcessSampler {
    system: Option<System>,
    pid: Option<sysinfo::Pid>,
    peak_rss: u64,
    cpu_ms: u64,
}

impl ProcessSampler {
    /// A sampler for the current process (inert if sysinfo cannot see it).
    pub fn new() -> ProcessSampler {
        let mut s = ProcessSampler {
            system: System::new_with_specifics(RefreshKind::nothing()).ok(),
            pid: sysinfo::get_current_pid().ok(),
            peak_rss: 0,
            cpu_ms: 0,
        };
        s.sample();
        s
    }

    /// Takes one reading.
    pub fn sample(&mut self) {
        let (Some(system), Some(pid)) = (self.system.as_mut(), self.pid) else {
            return;
        };
        system.refresh_processes_specifics(
            ProcessesToUpdate::Some(&[pid]),
            false,
            ProcessRefreshKind::nothing().with_memory().with_cpu(),
        );
        if let Some(p) = system.process(pid) {
            self.peak_rss = self.peak_rss.max(p.memory());
            self.cpu_ms = p.accumulated_cpu_time();
        }
    }

    /// CPU time this process has used so far, seconds (a fresh reading; 0 if unknown).
    pub fn cpu_seconds(&mut self) -> f64 {
        self.sample();
        self.cpu_ms as f64 / 1000.0
    }

    /// Resident set size now, bytes (0 if unknown).
    pub fn rss_now(&mut self) -> u64 {
        self.sample();
        match (self.system.as_ref(), self.pid) {
            (Some(system), Some(pid)) => system.process(pid).map_or(0, |p| p.memory()),
            _ => 0,
        }
    }

    /// Peak RSS and CPU time so far.
    pub fn info(&mut self) -> ProcessInfo {
        self.sample();
        ProcessInfo {
            peak_rss_bytes: self.peak_rss,
            cpu_time_s: self.cpu_ms as f64 / 1000.0,
        }
    }
}

impl Default for ProcessSampler {
    fn default() -> Self {
        Self::new()
    }
}
