//! What a file is, told from its first bytes: servers' Content-Type is not trusted (an
//! HTML error page served with 200 is a failure, not an image).

/// The media type and file extension of an image, or what the bytes look like instead.
pub fn sniff(head: &[u8]) -> Result<(&'static str, &'static str), String> {
    let starts = |magic: &[u8]| head.starts_with(magic);
    if starts(&[0xFF, 0xD8, 0xFF]) {
        return Ok(("image/jpeg", "jpg"));
    }
    if starts(b"\x89PNG\r\n\x1a\n") {
        return Ok(("image/png", "png"));
    }
    if starts(b"GIF87a") || starts(b"GIF89a") {
        return Ok(("image/gif", "gif"));
    }
    if starts(b"RIFF") && head.get(8..12) == Some(b"WEBP") {
        return Ok(("image/webp", "webp"));
    }
    if head.get(4..8) == Some(b"ftyp") {
        let brands = head.get(8..head.len().min(64)).unwrap_or_default();
        if brands.chunks(4).any(|b| b == b"avif" || b == b"avis") {
            return Ok(("image/avif", "avif"));
        }
    }
    if starts(b"BM") && head.len() >= 26 {
        return Ok(("image/bmp", "bmp"));
    }
    if starts(&[0, 0, 1, 0]) && head.len() >= 22 {
        return Ok(("image/x-icon", "ico"));
    }
    let text = String::from_utf8_lossy(&head[..head.len().min(2048)]).to_ascii_lowercase();
    let text = text.trim_start_matches('\u{feff}').trim_start();
    if text.contains("<svg") && !text.contains("<html") {
        return Ok(("image/svg+xml", "svg"));
    }
    Err(describe(text, head))
}

fn describe(text: &str, head: &[u8]) -> String {
    if head.is_empty() {
        "the response was empty".into()
    } else if text.starts_with("<!doctype html") || text.contains("<html") {
        "got an HTML page, not an image (an error or login page?)".into()
    } else if text.starts_with('{') || text.starts_with('[') {
        "got JSON, not an image".into()
    } else if text.starts_with('<') {
        "got XML or HTML, not an image".into()
    } else {
        "the bytes are not a known image type (JPEG, PNG, GIF, WebP, SVG, AVIF, BMP, ICO)".into()
    }
}

#[cfg(test)]
mod tests {
    use super::sniff;

    #[test]
    fn image_types_are_told_from_their_bytes() {
        let cases: [(&[u8], &str); 8] = [
            (b"\xFF\xD8\xFF\xE0\0\x10JFIF", "jpg"),
            (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "png"),
            (b"GIF89a\x01\0\x01\0", "gif"),
            (b"RIFF\x24\0\0\0WEBPVP8 ", "webp"),
            (b"\0\0\0\x1cftypavif\0\0\0\0avifmif1", "avif"),
            (
                b"BM\x36\0\0\0\0\0\0\0\x36\0\0\0\x28\0\0\0\x01\0\0\0\x01\0\0\0",
                "bmp",
            ),
            (
                b"\0\0\x01\0\x01\0\x10\x10\0\0\x01\0\x20\0\x68\x04\0\0\x16\0\0\0",
                "ico",
            ),
            (
                b"<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\">",
                "svg",
            ),
        ];
        for (bytes, ext) in cases {
            assert_eq!(sniff(bytes).map(|t| t.1), Ok(ext), "{ext}");
        }
    }

    #[test]
    fn pages_and_junk_are_not_images() {
        assert!(
            sniff(b"<!DOCTYPE html><html><body>404</body></html>")
                .unwrap_err()
                .contains("HTML")
        );
        assert!(sniff(b"<html><svg></svg></html>").is_err());
        assert!(sniff(b"{\"error\": 1}").unwrap_err().contains("JSON"));
        assert!(sniff(b"").unwrap_err().contains("empty"));
        assert!(sniff(b"plain text").is_err());
    }
}
