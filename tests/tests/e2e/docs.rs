//! The README and the guides in `docs/` stay true: every shell block tagged ```` ```sh runnable ````
//! runs (a guide's blocks in order, in one shell, in a fresh directory on the embedded default,
//! with `creatorlink` on the `PATH`), and every relative link points at a file that exists.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::creatorlink_bin;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .expect("the workspace root")
}

/// README.md and every Markdown file under docs/.
fn documents() -> Vec<PathBuf> {
    let root = workspace();
    let mut docs = vec![root.join("README.md")];
    let mut guides: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    guides.sort();
    docs.extend(guides);
    docs
}

/// The bodies of the ```` ```sh runnable ```` blocks of `text`, in order (indentation removed).
fn runnable_blocks(text: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        match &mut current {
            None if trimmed.starts_with("```sh runnable") => {
                current = Some((indent, String::new()))
            }
            Some(_) if trimmed.starts_with("```") => {
                if let Some((_, body)) = current.take() {
                    blocks.push(body);
                }
            }
            Some((indent, body)) => {
                body.push_str(line.get(*indent..).unwrap_or(line.trim_start()));
                body.push('\n');
            }
            None => {}
        }
    }
    blocks
}

#[test]
fn every_runnable_block_of_the_docs_runs() {
    let bin = tempfile::tempdir().expect("a bin directory");
    std::os::unix::fs::symlink(creatorlink_bin(), bin.path().join("creatorlink"))
        .expect("link creatorlink");
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut ran = 0;
    for doc in documents() {
        let text = std::fs::read_to_string(&doc).expect("read the document");
        let blocks = runnable_blocks(&text);
        if blocks.is_empty() {
            continue;
        }
        let dir = tempfile::tempdir().expect("a working directory");
        let mut cmd = Command::new("bash");
        cmd.arg("-euo")
            .arg("pipefail")
            .arg("-c")
            .arg(blocks.concat())
            .current_dir(dir.path())
            .env("PATH", &path)
            .env("CREATORLINK_LOG_LEVEL", "warn")
            .env_remove("DATABASE_URL")
            .env_remove("REDIS_URL");
        for (key, _) in std::env::vars() {
            if key.starts_with("CREATORLINK_") && key != "CREATORLINK_LOG_LEVEL" {
                cmd.env_remove(key);
            }
        }
        let out = cmd.output().expect("bash runs");
        assert!(
            out.status.success(),
            "the runnable blocks of {} failed:\n{}\n--- stdout\n{}\n--- stderr\n{}",
            doc.display(),
            blocks.concat(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        ran += blocks.len();
    }
    assert!(
        ran >= 3,
        "the guides keep their runnable blocks ({ran} found)"
    );
}

#[test]
fn relative_links_point_at_files_that_exist() {
    let link = |text: &str| -> Vec<String> {
        // `](target)` outside code: good enough for our Markdown (no nested parentheses).
        text.match_indices("](")
            .filter_map(|(at, _)| {
                let rest = &text[at + 2..];
                rest.find(')').map(|end| rest[..end].to_owned())
            })
            .collect()
    };
    for doc in documents() {
        let text = std::fs::read_to_string(&doc).expect("read the document");
        let dir = doc.parent().expect("a directory");
        for target in link(&text) {
            if target.starts_with("http://")
                || target.starts_with("https://")
                || target.starts_with('#')
                || target.starts_with("mailto:")
            {
                continue;
            }
            let file = target.split('#').next().unwrap_or_default();
            assert!(
                dir.join(file).exists(),
                "{} links to {target}, which does not exist",
                doc.display()
            );
        }
    }
}

/// The README's first query runs (against `creatorlink demo` in `graphiql.rs`).
pub fn readme_first_query() -> String {
    let text = std::fs::read_to_string(workspace().join("README.md")).expect("README.md");
    let start = text
        .find("```graphql\n")
        .expect("a graphql block in the README")
        + 11;
    let end = text[start..].find("```").expect("its end") + start;
    text[start..end].to_owned()
}
