//! What a template error says: the kind, minijinja's detail (with debug info on, the undefined
//! expression by name: "`w.nope` is undefined"), and the template line with a caret under the
//! failing expression, the way compilers show a place.
//!
//! A strict-undefined failure used to say only "undefined value"; a user with a long template
//! needs to know which variable or attribute, and where.

/// The message for a template error: `kind: detail`, then the source line and a caret line.
pub(super) fn message(e: &minijinja::Error) -> String {
    let mut message = e.kind().to_string();
    if let Some(detail) = e.detail() {
        message.push_str(": ");
        message.push_str(detail);
    }
    if let Some(snippet) = snippet(e) {
        message.push('\n');
        message.push_str(&snippet);
    }
    message
}

/// The failing line of the template with `^` under the failing span (clipped to that line).
fn snippet(e: &minijinja::Error) -> Option<String> {
    let source = e.template_source()?;
    let range = e.range()?;
    let start = source.floor_char_boundary(range.start.min(source.len()));
    let end = source
        .floor_char_boundary(range.end.min(source.len()))
        .max(start);
    let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = source[start..]
        .find('\n')
        .map_or(source.len(), |i| start + i);
    let line = source[line_start..line_end].trim_end_matches('\r');
    let number = source[..start].matches('\n').count() + 1;
    let gutter = number.to_string();
    let column = source[line_start..start].chars().count();
    let width = source[start..end.min(line_end)].chars().count().max(1);
    let shown: String = line
        .chars()
        .map(|c| if c == '\t' { ' ' } else { c })
        .collect();
    Some(format!(
        "{gutter} | {shown}\n{pad} | {caret_pad}{carets}",
        pad = " ".repeat(gutter.len()),
        caret_pad = " ".repeat(column),
        carets = "^".repeat(width),
    ))
}

#[cfg(test)]
mod tests {
    use minijinja::{Environment, UndefinedBehavior};

    fn error_for(template: &str) -> String {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_debug(true);
        let ctx = minijinja::context! { w => minijinja::context! { name => "a" } };
        env.render_str(template, ctx)
            .err()
            .map(|e| super::message(&e))
            .unwrap_or_default()
    }

    #[test]
    fn an_undefined_attribute_is_named_and_underlined() {
        assert_eq!(
            error_for("name: {{ w.name }}\nbad: {{ w.nope }}\n"),
            "undefined value: `w.nope` is undefined\n2 | bad: {{ w.nope }}\n  |         ^^^^^^"
        );
    }

    #[test]
    fn a_template_without_debug_info_still_says_what_went_wrong() {
        let e = minijinja::Error::new(minijinja::ErrorKind::UndefinedError, "x");
        assert_eq!(super::message(&e), "undefined value: x");
    }
}
