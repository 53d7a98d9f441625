//! Generated posts folders with files beside the posts, in every shape authors use: page
//! bundles (`trip/index.md` + `photo.png`), dated folders with a `photos/` folder, a shared
//! `images/` folder reached with `../`, names with spaces and accents, raw HTML, front
//! matter `image` and podcast enclosures.

use std::path::Path;

/// A real 16×16 PNG (79 bytes): what every generated picture is.
pub const TINY_PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x10, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90, 0x91, 0x68,
    0x36, 0x00, 0x00, 0x00, 0x16, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0xd0, 0xce, 0xd9, 0x40,
    0x12, 0x62, 0x18, 0xd5, 0x30, 0xaa, 0x61, 0xf8, 0x6a, 0x00, 0x00, 0x53, 0x5c, 0x47, 0x10, 0xb9,
    0x99, 0xf2, 0xa6, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// Writes a file, creating its folders.
pub fn put(path: &Path, bytes: &[u8]) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).expect("create a folder");
    }
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// Writes `n` published posts into `dir`, each linking files beside it (pictures, and an
/// episode for one post in four), plus the files they link to. Shared pictures are linked
/// by many posts; one of them has a name with a space and an accent.
pub fn generate(dir: &Path, n: usize) {
    for shared in 0..10 {
        put(&dir.join(format!("images/shared-{shared}.png")), TINY_PNG);
    }
    put(&dir.join("images/café photo.png"), TINY_PNG);
    for i in 0..n {
        let day = chrono::NaiveDate::from_ymd_opt(2020, 1, 1).expect("a date")
            + chrono::Days::new(i as u64);
        let front = format!(
            "title: \"Post {i}\"\ndate: {day}\ntags: [\"tag-{}\"]\n",
            i % 7
        );
        match i % 4 {
            0 => {
                let folder = dir.join(format!("bundles/{day}-trip-{i}"));
                put(&folder.join("photo.png"), TINY_PNG);
                let text = format!("---\n{front}---\n\nA trip.\n\n![the view](photo.png)\n");
                put(&folder.join("index.md"), text.as_bytes());
            }
            1 => {
                put(&dir.join(format!("2020/photos/p{i}.png")), TINY_PNG);
                let text = format!(
                    "---\n{front}image: photos/p{i}.png\n---\n\nA photo, [full size](photos/p{i}.png).\n"
                );
                put(&dir.join(format!("2020/post-{i}.md")), text.as_bytes());
            }
            2 => {
                let episode = format!("episode {i}: not really audio").into_bytes();
                put(&dir.join(format!("episodes/ep-{i}.mp3")), &episode);
                let text = format!(
                    "---\n{front}enclosure: {{url: \"episodes/ep-{i}.mp3\", type: audio/mpeg, length: {}}}\n---\n\nAn episode.\n\n<figure><img src=\"images/shared-{}.png\" alt=\"cover\"></figure>\n",
                    episode.len(),
                    i % 10
                );
                put(&dir.join(format!("post-{i}.md")), text.as_bytes());
            }
            _ => {
                let text = format!(
                    "---\n{front}---\n\nDeep down.\n\n![cafe](../../images/caf%C3%A9%20photo.png) and ![shared](<../../images/shared-{}.png>)\n",
                    i % 10
                );
                put(&dir.join(format!("deep/a/post-{i}.md")), text.as_bytes());
            }
        }
    }
}

/// `text` as a YAML double-quoted scalar: every character survives as an escape, control
/// characters and the ones YAML refuses to carry raw (BOM, U+FFFE/FFFF, line separators)
/// included, so a generated front matter value reaches the parser exactly.
pub fn yaml_quoted(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control()
                || matches!(
                    c,
                    '\u{feff}' | '\u{fffe}' | '\u{ffff}' | '\u{2028}' | '\u{2029}'
                ) =>
            {
                out.push_str(&format!("\\U{:08x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
