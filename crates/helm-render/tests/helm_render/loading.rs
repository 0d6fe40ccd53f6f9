//! Reading charts from directories and archives.

use std::io::Write;

use helm_render::{ChartFiles, FileLimits, LoadError};

fn write(dir: &std::path::Path, files: &[(&str, &str)]) {
    for (p, c) in files {
        let path = dir.join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, c).unwrap();
    }
}

#[test]
fn a_directory_is_read_with_helmignore_applied() {
    let d = super::tempdir();
    write(
        d.path(),
        &[
            ("Chart.yaml", "apiVersion: v2\nname: a\nversion: 1.0.0\n"),
            (".helmignore", "*.md\n"),
            ("README.md", "x"),
            ("templates/cm.yaml", "kind: ConfigMap"),
            ("templates/.swp", "junk"),
        ],
    );
    let files = ChartFiles::from_dir(d.path(), FileLimits::default()).unwrap();
    let names: Vec<_> = files.iter().map(|(k, _)| k.to_owned()).collect();
    assert_eq!(names, [".helmignore", "Chart.yaml", "templates/cm.yaml"]);
}

#[test]
fn ignored_files_and_directories_are_never_read() {
    // Helm's loader skips what `.helmignore` names while walking: a large ignored directory
    // (a vendored toolchain, build output) neither costs reading nor counts against limits.
    let d = super::tempdir();
    let big = "x".repeat(5000);
    write(
        d.path(),
        &[
            ("Chart.yaml", "apiVersion: v2\nname: a\nversion: 1.0.0\n"),
            (".helmignore", "build/\n*.bin\n"),
            ("build/out/huge.txt", &big),
            ("blob.bin", &big),
            ("templates/cm.yaml", "kind: ConfigMap"),
        ],
    );
    let limits = FileLimits {
        max_files: 10,
        max_total_bytes: 1000,
    };
    let files = ChartFiles::from_dir(d.path(), limits).unwrap();
    let names: Vec<_> = files.iter().map(|(k, _)| k.to_owned()).collect();
    assert_eq!(names, [".helmignore", "Chart.yaml", "templates/cm.yaml"]);
}

#[test]
fn a_filtered_set_is_not_filtered_again() {
    // One byte-order mark is stripped, as Helm does, however often the set is filtered.
    let mut files = ChartFiles::new();
    files.insert("Chart.yaml", "name: a\n");
    files.insert("x.txt", "\u{feff}\u{feff}text");
    let once = files.filtered().unwrap();
    assert_eq!(once.get("x.txt"), Some("\u{feff}text".as_bytes()));
    let twice = once.clone().filtered().unwrap();
    assert_eq!(twice.get("x.txt"), Some("\u{feff}text".as_bytes()));
}

#[test]
fn a_directory_without_chart_yaml_is_refused() {
    let d = super::tempdir();
    let err = ChartFiles::from_dir(d.path(), FileLimits::default()).unwrap_err();
    assert!(matches!(err, LoadError::NotAChart { .. }), "{err}");
}

#[cfg(unix)]
#[test]
fn symlinks_inside_the_chart_are_followed_and_escapes_refused() {
    let d = super::tempdir();
    write(
        d.path(),
        &[
            ("Chart.yaml", "name: a\nversion: 1.0.0\n"),
            ("files/real.txt", "hello"),
        ],
    );
    std::os::unix::fs::symlink("files/real.txt", d.path().join("link.txt")).unwrap();
    let files = ChartFiles::from_dir(d.path(), FileLimits::default()).unwrap();
    assert_eq!(files.get("link.txt"), Some(&b"hello"[..]));

    std::os::unix::fs::symlink("/etc/passwd", d.path().join("files/leak.txt")).unwrap();
    let err = ChartFiles::from_dir(d.path(), FileLimits::default()).unwrap_err();
    assert!(
        matches!(err, LoadError::PathEscapes { ref path } if path == "files/leak.txt"),
        "{err}"
    );
    // The message says what to do, and never what the link points at.
    let msg = err.to_string();
    assert!(msg.contains("copy its target into the chart"), "{msg}");
    assert!(!msg.contains("/etc/passwd"), "{msg}");
}

#[test]
fn limits_are_enforced() {
    let d = super::tempdir();
    write(
        d.path(),
        &[("Chart.yaml", "name: a\n"), ("big.txt", &"x".repeat(5000))],
    );
    let err = ChartFiles::from_dir(
        d.path(),
        FileLimits {
            max_files: 10,
            max_total_bytes: 1000,
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("chart too large"), "{err}");
}

fn tgz(entries: &[(&str, &str)]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    {
        let mut tar = tar::Builder::new(&mut gz);
        for (p, c) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_size(c.len() as u64);
            h.set_mode(0o644);
            h.set_entry_type(tar::EntryType::Regular);
            // Raw name bytes: the builder's own path checks would refuse the hostile names
            // these tests need.
            h.as_old_mut().name[..p.len()].copy_from_slice(p.as_bytes());
            h.set_cksum();
            tar.append(&h, c.as_bytes()).unwrap();
        }
        tar.finish().unwrap();
    }
    gz.flush().unwrap();
    gz.finish().unwrap()
}

#[test]
fn an_archive_drops_its_top_directory() {
    let data = tgz(&[
        ("mychart/Chart.yaml", "name: mychart\n"),
        ("mychart/templates/a.yaml", "a"),
    ]);
    let files = ChartFiles::from_tgz(&data, FileLimits::default()).unwrap();
    let names: Vec<_> = files.iter().map(|(k, _)| k.to_owned()).collect();
    assert_eq!(names, ["Chart.yaml", "templates/a.yaml"]);
}

#[test]
fn archive_escapes_and_misplaced_chart_yaml_are_refused() {
    let data = tgz(&[("c/../../etc/passwd", "x")]);
    let err = ChartFiles::from_tgz(&data, FileLimits::default()).unwrap_err();
    assert!(err.to_string().contains("parent directory"), "{err}");
    let data = tgz(&[("Chart.yaml", "name: x\n")]);
    let err = ChartFiles::from_tgz(&data, FileLimits::default()).unwrap_err();
    assert!(
        err.to_string().contains("chart yaml not in base directory"),
        "{err}"
    );
    let err = ChartFiles::from_tgz(b"not gzip", FileLimits::default()).unwrap_err();
    assert!(err.to_string().contains("not a gzipped archive"), "{err}");
}

#[test]
fn archive_size_is_bounded_after_decompression() {
    let data = tgz(&[
        ("c/Chart.yaml", "name: c\n"),
        ("c/big", &"0".repeat(100_000)),
    ]);
    let err = ChartFiles::from_tgz(
        &data,
        FileLimits {
            max_files: 100,
            max_total_bytes: 10_000,
        },
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("chart too large") || err.to_string().contains("archive"),
        "{err}"
    );
}

#[test]
fn write_to_round_trips() {
    let mut files = ChartFiles::new();
    files.insert("Chart.yaml", "name: a\nversion: 1.0.0\n");
    files.insert("templates/x.yaml", "x");
    let d = super::tempdir();
    files.write_to(d.path()).unwrap();
    let back = ChartFiles::from_dir(d.path(), FileLimits::default()).unwrap();
    assert_eq!(back, files);
}

#[test]
fn write_to_refuses_paths_that_leave_the_directory() {
    let mut files = ChartFiles::new();
    files.insert("../outside", "x");
    let d = super::tempdir();
    assert!(matches!(
        files.write_to(d.path()),
        Err(LoadError::PathEscapes { .. })
    ));
}

/// A chart whose changelog and CRDs are large and that one template reads `notes.txt` from.
fn chart_with_unused_files(dir: &std::path::Path) {
    write(
        dir,
        &[
            ("Chart.yaml", "apiVersion: v2\nname: a\nversion: 1.0.0\n"),
            ("values.yaml", "greeting: hi\n"),
            ("CHANGELOG.md", &"- a change\n".repeat(20_000)),
            ("crds/big.yaml", &"# crd\n".repeat(20_000)),
            ("notes.txt", "read me"),
            (
                "templates/cm.yaml",
                "kind: ConfigMap\ndata:\n  greeting: {{ .Values.greeting }}\n  notes: {{ .Files.Get \"notes.txt\" | quote }}\n",
            ),
        ],
    );
}

/// The manifest, or the error with its causes.
fn render(files: &ChartFiles) -> Result<String, String> {
    use helm_render::Renderer as _;
    helm_render::NativeRenderer::new()
        .render(files, &helm_render::Options::default())
        .map(|o| o.manifest)
        .map_err(|e| {
            let mut text = e.to_string();
            let mut cause = std::error::Error::source(&e);
            while let Some(c) = cause {
                text.push_str(&format!(": {c}"));
                cause = c.source();
            }
            text
        })
}

#[test]
fn a_directory_s_files_are_read_when_a_render_first_uses_them() {
    // Files a render never looks at (changelog, CRDs without --include-crds) are never read:
    // removing them after the directory was walked changes nothing.
    let d = super::tempdir();
    chart_with_unused_files(d.path());
    let files = ChartFiles::from_dir(d.path(), FileLimits::default()).unwrap();
    // Their sizes count against the limits and the total all the same.
    assert!(files.total_bytes() > 200_000, "{}", files.total_bytes());
    // What every render reads: the templates, values and Chart.yaml, not the rest.
    let read = "apiVersion: v2\nname: a\nversion: 1.0.0\n".len()
        + "greeting: hi\n".len()
        + std::fs::metadata(d.path().join("templates/cm.yaml"))
            .unwrap()
            .len() as usize;
    assert_eq!(files.render_bytes(), read as u64);
    std::fs::remove_file(d.path().join("CHANGELOG.md")).unwrap();
    std::fs::remove_dir_all(d.path().join("crds")).unwrap();
    let manifest = render(&files).unwrap();
    assert!(manifest.contains("greeting: hi"), "{manifest}");
    assert!(manifest.contains("notes: \"read me\""), "{manifest}");
    assert!(files.unreadable().is_none());
}

#[test]
fn a_file_gone_when_the_render_reads_it_fails_the_render_naming_it() {
    let d = super::tempdir();
    chart_with_unused_files(d.path());
    let files = ChartFiles::from_dir(d.path(), FileLimits::default()).unwrap();
    std::fs::remove_file(d.path().join("notes.txt")).unwrap();
    let err = render(&files).unwrap_err();
    assert!(err.contains("notes.txt"), "{err}");

    // A template gone: the render fails with the read error, not with what an empty
    // template would have made of it.
    write(d.path(), &[("notes.txt", "back")]);
    let files = ChartFiles::from_dir(d.path(), FileLimits::default()).unwrap();
    std::fs::remove_file(d.path().join("templates/cm.yaml")).unwrap();
    let err = render(&files).unwrap_err();
    assert!(err.contains("templates/cm.yaml"), "{err}");
    // Other readers see the file as empty, and the set says why.
    assert_eq!(files.get("templates/cm.yaml"), Some(&b""[..]));
    assert!(
        matches!(files.unreadable(), Some(LoadError::Io { path, .. }) if path == "templates/cm.yaml")
    );
}

#[test]
fn a_file_that_grew_after_the_walk_is_not_read_past_its_size() {
    // The limits were checked against the sizes seen while walking; a file that grows
    // afterwards (to gigabytes, say) is not read beyond them.
    let d = super::tempdir();
    chart_with_unused_files(d.path());
    let files = ChartFiles::from_dir(d.path(), FileLimits::default()).unwrap();
    write(d.path(), &[("notes.txt", &"x".repeat(100_000))]);
    let err = render(&files).unwrap_err();
    assert!(err.contains("notes.txt") && err.contains("grew"), "{err}");
}

#[test]
fn an_empty_file_that_grew_after_the_walk_is_refused_and_one_that_did_not_reads_whole() {
    let d = super::tempdir();
    chart_with_unused_files(d.path());
    write(d.path(), &[("notes.txt", "")]);
    let files = ChartFiles::from_dir(d.path(), FileLimits::default()).unwrap();
    write(d.path(), &[("notes.txt", "now something")]);
    let err = render(&files).unwrap_err();
    assert!(err.contains("notes.txt") && err.contains("grew"), "{err}");

    // Unchanged: every byte, read with one call (the buffer has a byte to spare).
    let d = super::tempdir();
    chart_with_unused_files(d.path());
    write(d.path(), &[("notes.txt", &"n".repeat(70_000))]);
    let files = ChartFiles::from_dir(d.path(), FileLimits::default()).unwrap();
    let out = render(&files).unwrap();
    assert!(out.contains(&"n".repeat(70_000)), "notes read whole");
}
