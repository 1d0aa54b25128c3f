//! The machine and configuration a run was made on, printed with its
//! results.

use serde::Serialize;

/// Where the numbers come from.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    /// CPU model, from `/proc/cpuinfo`.
    pub cpu: String,
    /// CPUs this process may run on.
    pub cpus: usize,
    /// Kernel release and machine, from `uname`.
    pub kernel: String,
    /// Memory, from `/proc/meminfo`.
    pub memory: String,
    /// `rustc --version`, if rustc is on the path.
    pub rustc: String,
    /// The git commit of the working directory (`-dirty`: with changes not
    /// committed), if any.
    pub commit: String,
    /// When the run started (UTC).
    pub date: String,
}

impl Machine {
    /// Reads the machine's description.
    pub fn describe() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split(':').nth(1))
            .map(|m| m.trim().to_string())
            .unwrap_or_else(|| "unknown".into());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory = meminfo
            .lines()
            .find(|l| l.starts_with("MemTotal"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kib| kib.parse::<f64>().ok())
            .map(|kib| format!("{:.1} GiB", kib / (1024.0 * 1024.0)))
            .unwrap_or_else(|| "unknown".into());
        Self {
            cpu,
            cpus: std::thread::available_parallelism().map_or(0, |n| n.get()),
            kernel: command("uname", &["-srm"]),
            memory,
            rustc: command("rustc", &["--version"]),
            commit: command("git", &["describe", "--always", "--dirty"]),
            date: command("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        }
    }
}

/// The first line `program args` prints, or "unknown".
fn command(program: &str, args: &[&str]) -> String {
    std::process::Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.lines().next().map(str::to_string))
        .unwrap_or_else(|| "unknown".into())
}
