//! Private repositories as a user reads them: the CLI authenticates git with the user's own
//! credentials (`GIT_ASKPASS` through `git credential fill`, `~/.netrc`) and reads `ssh://`
//! and `git@host:owner/repo` URLs through the ssh command git would run.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

use testkit::{GitHttpServer, git};

const TOKEN: &str = "ghp_CLIUSERtoken0123456789";

/// A bare repository `acme/charts.git` under `root` with chart `charts/web` at `v1` and `v2`.
fn bare_repo(tmp: &Path) -> std::path::PathBuf {
    let work = tmp.join("work");
    let chart = work.join("charts/web");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    git(&work, &["init", "-q", "-b", "main"]);
    for (tag, value) in [("v1", "one"), ("v2", "two")] {
        std::fs::write(
            chart.join("Chart.yaml"),
            "apiVersion: v2\nname: web\nversion: 1.0.0\n",
        )
        .unwrap();
        std::fs::write(
            chart.join("templates/cm.yaml"),
            format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  v: {value}\n"
            ),
        )
        .unwrap();
        git(&work, &["add", "-A"]);
        git(&work, &["commit", "-q", "-m", tag]);
        git(&work, &["tag", tag]);
    }
    let root = tmp.join("root");
    std::fs::create_dir_all(root.join("acme")).unwrap();
    git(
        &root,
        &[
            "clone",
            "-q",
            "--bare",
            work.to_str().unwrap(),
            "acme/charts.git",
        ],
    );
    root
}

/// The CLI with a clean home (no user config, no helpers) and `env` on top.
fn run(tmp: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let home = tmp.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_chartimpact"));
    cmd.args(args)
        .env("CHARTIMPACT_DATA_DIR", tmp.join("data"))
        .env("NO_COLOR", "1")
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env_remove("GIT_ASKPASS")
        .env_remove("SSH_ASKPASS")
        .env_remove("GIT_SSH")
        .env_remove("GIT_SSH_COMMAND");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn script(path: &Path, text: &str) -> String {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path.to_string_lossy().into_owned()
}

fn versions_json(out: &Output) -> serde_json::Value {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_users_git_credentials_read_a_private_http_repository() {
    let tmp = tempfile::tempdir().unwrap();
    let root = bare_repo(tmp.path());
    let server = GitHttpServer::start_basic(&root, "x-access-token", TOKEN);
    let url = format!("{}/acme/charts.git", server.url());
    let hosts = ["--allowed-repo-hosts", &server.host_port(), "--plain-http"];
    let args = |cmd: &[&'static str]| -> Vec<String> {
        cmd.iter()
            .map(|s| s.to_string())
            .chain(["--repo".into(), url.clone()])
            .chain(hosts.iter().map(|s| s.to_string()))
            .collect()
    };
    let versions: Vec<String> = args(&["versions", "--output", "json"]);
    let versions: Vec<&str> = versions.iter().map(String::as_str).collect();

    // No credentials anywhere: refused, saying which repository and why, nothing on stdout.
    let out = run(tmp.path(), &versions, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("acme/charts"), "{err}");

    // GIT_ASKPASS, as git asks it (through `git credential fill`).
    let askpass = script(
        &tmp.path().join("askpass.sh"),
        &format!(
            "#!/bin/sh\ncase \"$1\" in\n  Username*) echo x-access-token ;;\n  *) echo {TOKEN} ;;\nesac\n"
        ),
    );
    let doc = versions_json(&run(tmp.path(), &versions, &[("GIT_ASKPASS", &askpass)]));
    assert!(doc["tags"].to_string().contains("v2"), "{doc}");
    let seen = server.requests();
    assert!(
        seen.iter()
            .any(|r| r.basic_credentials() == Some(("x-access-token".into(), TOKEN.into()))),
        "{seen:?}"
    );
    assert!(seen.iter().all(|r| !r.target.contains(TOKEN)));

    // ~/.netrc for the host, with a fresh data directory (mirrors are per credentials).
    let fresh = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(fresh.path().join("home")).unwrap();
    std::fs::write(
        fresh.path().join("home/.netrc"),
        format!("machine 127.0.0.1 login x-access-token password {TOKEN}\n"),
    )
    .unwrap();
    let doc = versions_json(&run(fresh.path(), &versions, &[]));
    assert!(doc["tags"].to_string().contains("v1"), "{doc}");
}

#[test]
fn ssh_and_scp_like_urls_go_through_the_users_ssh_command() {
    let tmp = tempfile::tempdir().unwrap();
    let root = bare_repo(tmp.path());
    // An ssh that runs the remote command here, as sshd would on the host: after its options
    // and the host come the command's words, which ssh joins with spaces for the remote shell.
    let log = tmp.path().join("ssh.log");
    let ssh = script(
        &tmp.path().join("fake-ssh.sh"),
        &format!(
            "#!/bin/sh\necho \"$@\" >> {}\nwhile [ \"$1\" = -o ] || [ \"$1\" = -p ]; do shift 2; done\nshift\nexec sh -c \"$*\"\n",
            log.display()
        ),
    );
    let path = root.join("acme/charts.git");
    for url in [
        format!("ssh://git@localhost{}", path.display()),
        format!("git@localhost:{}", path.display()),
    ] {
        let out = run(
            tmp.path(),
            &[
                "versions",
                "--repo",
                &url,
                "--output",
                "json",
                "--allowed-repo-hosts",
                "localhost",
            ],
            &[("GIT_SSH_COMMAND", &ssh)],
        );
        let doc = versions_json(&out);
        assert!(doc["tags"].to_string().contains("v2"), "{url}: {doc}");
    }
    let calls = std::fs::read_to_string(&log).unwrap();
    assert!(
        calls.contains("localhost") && calls.contains("git-upload-pack"),
        "{calls}"
    );
}
