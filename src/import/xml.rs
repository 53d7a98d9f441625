//! A small element tree over quick-xml, for the exports feed-rs does not read (WordPress
//! WXR, Blogger): names as written (`wp:status`), attributes, text with character and
//! predefined entity references resolved, CDATA as text. Built with a stack, not recursion,
//! so no nesting depth can overflow it.

use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::Event;
use quick_xml::{Reader, XmlVersion};

/// One element: its name as written, attributes, and children in order.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Element {
    /// The qualified name as written, e.g. `wp:post_type`.
    pub name: String,
    /// Attributes as written (names qualified), values unescaped.
    pub attrs: Vec<(String, String)>,
    /// Child elements and text, in document order.
    pub children: Vec<Node>,
}

/// A child of an element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// An element.
    Element(Element),
    /// Text or CDATA.
    Text(String),
}

impl Element {
    /// The child elements with this name.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter_map(move |node| match node {
            Node::Element(e) if e.name == name => Some(e),
            _ => None,
        })
    }

    /// The first child element with this name.
    pub fn first(&self, name: &str) -> Option<&Element> {
        self.children.iter().find_map(|node| match node {
            Node::Element(e) if e.name == name => Some(e),
            _ => None,
        })
    }

    /// The text of the first child with this name, trimmed; `None` when absent or empty.
    pub fn text_of(&self, name: &str) -> Option<String> {
        self.first(name)
            .map(|e| e.text().trim().to_string())
            .filter(|t| !t.is_empty())
    }

    /// The text directly inside this element (its text and CDATA children).
    pub fn text(&self) -> String {
        self.children
            .iter()
            .filter_map(|node| match node {
                Node::Text(t) => Some(t.as_str()),
                Node::Element(_) => None,
            })
            .collect()
    }

    /// An attribute's value.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Parses a document into its root element, or says where it is not well-formed.
pub fn parse(text: &str) -> Result<Element, String> {
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<Element> = vec![Element::default()];
    loop {
        let at = reader.buffer_position();
        let event = reader
            .read_event()
            .map_err(|e| format!("not well-formed XML at byte {at}: {e}"))?;
        match event {
            Event::Start(start) => stack.push(element(&start)?),
            Event::Empty(start) => {
                let empty = element(&start)?;
                push(&mut stack, Node::Element(empty));
            }
            Event::End(_) => {
                let done = stack.pop().filter(|_| !stack.is_empty());
                let done =
                    done.ok_or_else(|| format!("an end tag without a start at byte {at}"))?;
                push(&mut stack, Node::Element(done));
            }
            Event::Text(t) => push_text(&mut stack, &t.xml10_content()),
            Event::CData(c) => push_text(&mut stack, &c.into_inner()),
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    _ => {
                        let name = r.into_inner();
                        let known = resolve_predefined_entity(&name);
                        known.map_or_else(|| format!("&{name};"), str::to_string)
                    }
                };
                push_text(&mut stack, &resolved);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    let document = stack.pop().filter(|_| stack.is_empty());
    let document = document.ok_or("the document ends inside an element")?;
    document
        .children
        .into_iter()
        .find_map(|node| match node {
            Node::Element(root) => Some(root),
            Node::Text(_) => None,
        })
        .ok_or_else(|| "no root element".to_string())
}

fn element(start: &quick_xml::events::BytesStart<'_>) -> Result<Element, String> {
    let name = start.name().as_ref().to_string();
    let mut attrs = Vec::new();
    for attr in start.attributes() {
        let attr = attr.map_err(|e| format!("a bad attribute in <{name}>: {e}"))?;
        let key = attr.key.as_ref().to_string();
        let value = attr
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|e| format!("a bad attribute value in <{name}>: {e}"))?;
        attrs.push((key, value.into_owned()));
    }
    Ok(Element {
        name,
        attrs,
        children: Vec::new(),
    })
}

fn push(stack: &mut [Element], node: Node) {
    if let Some(parent) = stack.last_mut() {
        parent.children.push(node);
    }
}

/// Appends text, joining it to a text node just before (a reference splits text in events).
fn push_text(stack: &mut [Element], text: &str) {
    let Some(parent) = stack.last_mut() else {
        return;
    };
    match parent.children.last_mut() {
        Some(Node::Text(before)) => before.push_str(text),
        _ => parent.children.push(Node::Text(text.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_references_and_cdata_come_back_whole() {
        let root = parse("<?xml version=\"1.0\"?><a x=\"1 &amp; 2\"><b>Fish &amp; chips &#233;&#x263A;</b><c><![CDATA[<p>raw</p>]]></c></a>").unwrap();
        assert_eq!(root.attr("x"), Some("1 & 2"));
        assert_eq!(root.text_of("b").as_deref(), Some("Fish & chips é☺"));
        assert_eq!(root.text_of("c").as_deref(), Some("<p>raw</p>"));
    }

    #[test]
    fn malformed_documents_are_refused() {
        for bad in ["<a><b></a>", "<a>", "", "</a>", "text"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
