//! The TwiML the service answers, read into a tree of elements.

use quick_xml::events::Event;

use crate::SandboxError;

/// A TwiML element: name, attributes, text and children.
#[derive(Debug, Default, Clone)]
pub(crate) struct Node {
    pub(crate) name: String,
    attrs: Vec<(String, String)>,
    pub(crate) text: String,
    pub(crate) children: Vec<Node>,
}

impl Node {
    pub(crate) fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn events(&self) -> Vec<String> {
        self.attr("statusCallbackEvent")
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    }

    pub(crate) fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }
}

pub(crate) fn parse_twiml(xml: &str) -> Result<Node, SandboxError> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut stack = vec![Node::default()];
    let element = |e: &quick_xml::events::BytesStart<'_>| -> Result<Node, SandboxError> {
        let mut node = Node {
            name: e.name().as_ref().to_owned(),
            ..Node::default()
        };
        for attr in e.attributes() {
            let attr = attr.map_err(quick_xml::Error::from)?;
            let key = attr.key.as_ref().to_owned();
            node.attrs.push((
                key,
                attr.normalized_value(quick_xml::XmlVersion::Explicit1_0)?
                    .into_owned(),
            ));
        }
        Ok(node)
    };
    loop {
        match reader.read_event()? {
            Event::Start(e) => stack.push(element(&e)?),
            Event::Empty(e) => {
                let node = element(&e)?;
                if let Some(parent) = stack.last_mut() {
                    parent.children.push(node);
                }
            }
            Event::End(_) => {
                if stack.len() > 1
                    && let Some(node) = stack.pop()
                    && let Some(parent) = stack.last_mut()
                {
                    parent.children.push(node);
                }
            }
            Event::Text(t) => {
                if let Some(node) = stack.last_mut() {
                    node.text.push_str(t.xml10_content().trim());
                }
            }
            Event::GeneralRef(r) => {
                if let Some(node) = stack.last_mut() {
                    let c = match r.resolve_char_ref()? {
                        Some(c) => c,
                        None => match r.xml10_content().as_ref() {
                            "amp" => '&',
                            "lt" => '<',
                            "gt" => '>',
                            "quot" => '"',
                            _ => '\'',
                        },
                    };
                    node.text.push(c);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    let root = stack.into_iter().next().unwrap_or_default();
    Ok(root
        .children
        .into_iter()
        .find(|n| n.name == "Response")
        .unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_reads_into_its_verbs_with_attributes_and_unescaped_text() {
        let response = parse_twiml(
            r#"<?xml version="1.0" encoding="UTF-8"?><Response><Say voice="alice">Fish&amp;chips</Say><Dial action="https://h/a?x=1&amp;y=2"><Conference statusCallbackEvent="join leave">park-1</Conference></Dial><Hangup/></Response>"#,
        )
        .unwrap();
        let names: Vec<&str> = response.children.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["Say", "Dial", "Hangup"]);
        assert_eq!(response.children[0].attr("voice"), Some("alice"));
        assert_eq!(response.children[0].text, "Fish&chips");
        let dial = &response.children[1];
        assert_eq!(dial.attr("action"), Some("https://h/a?x=1&y=2"));
        let conference = dial.child("Conference").unwrap();
        assert_eq!(conference.text, "park-1");
        assert_eq!(conference.events(), ["join", "leave"]);
    }

    #[test]
    fn a_document_without_a_response_is_empty_and_bad_xml_is_an_error() {
        assert!(parse_twiml("<Other/>").unwrap().children.is_empty());
        assert!(parse_twiml("<Response><Say></Response>").is_err());
    }
}
