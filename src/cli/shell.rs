//! POSIX shell quoting, for the command lines nasbo prints for the user to paste.

/// `arg` as one word for a POSIX shell: unchanged when it has only safe characters, else in
/// single quotes (a quote inside written `'\''`).
pub fn quote(arg: &str) -> String {
    let safe = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_@%+=:,./-{}".contains(c));
    if safe {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', "'\\''"))
    }
}

/// The command line, quoted word by word.
pub fn join(args: &[String]) -> String {
    args.iter().map(|a| quote(a)).collect::<Vec<_>>().join(" ")
}

/// This process's command line without the flags in `drop` (each with its value, as
/// `--flag VALUE` or `--flag=VALUE`), for a "run this again" hint. Flags after `--` (the
/// tuned command's) are kept.
pub fn this_command_without(drop: &[&str]) -> String {
    let args: Vec<String> = std::env::args().collect();
    let mut out = Vec::with_capacity(args.len());
    let mut i = 0;
    let mut after_dashes = false;
    while i < args.len() {
        let a = &args[i];
        if !after_dashes {
            if a == "--" {
                after_dashes = true;
            } else if drop.contains(&a.as_str()) {
                i += 2;
                continue;
            } else if drop.iter().any(|d| a.starts_with(&format!("{d}="))) {
                i += 1;
                continue;
            }
        }
        out.push(a.clone());
        i += 1;
    }
    join(&out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_survive_a_round_trip_through_sh() {
        let words = [
            "plain",
            "dir with space/t.csv",
            "it's",
            "import sys; print(float(sys.argv[1]) ** 2)",
            "{x}",
            "",
            "$HOME",
            "a\"b",
        ];
        let line = join(&words.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("for w in {line}; do printf '%s\\n' \"$w\"; done"))
            .output()
            .unwrap();
        let got: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(String::from)
            .collect();
        assert_eq!(got, words);
    }
}
