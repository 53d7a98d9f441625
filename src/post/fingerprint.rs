//! A digest of everything that shapes a post's output, so rendering can skip documents whose
//! inputs are unchanged.

use super::ParseContext;

/// A 128-bit digest identifying the inputs of something rendered.
pub type Fingerprint = [u8; 16];

/// The fingerprint of a post: its path, its text and the parse context. Each part is
/// prefixed with its length so that moving bytes from one part to the next changes it.
pub(super) fn of_post(source: &str, text: &str, ctx: &ParseContext) -> Fingerprint {
    let mut hasher = blake3::Hasher::new();
    for part in [
        source,
        text,
        ctx.post_base.as_str(),
        ctx.site_base.as_str(),
        ctx.language.as_str(),
        ctx.timezone.name(),
    ] {
        hasher.update(&(part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    hasher.update(&ctx.fallback_date.timestamp().to_le_bytes());
    let mut fingerprint = Fingerprint::default();
    fingerprint.copy_from_slice(&hasher.finalize().as_bytes()[..16]);
    fingerprint
}
