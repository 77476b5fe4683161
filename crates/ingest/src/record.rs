//! A raw record seen through its file's column layout: the fields of the kind's contract by
//! name, and the columns outside it kept as extras.

use fanzha_core::schema::Kind;

/// Where each contract field sits in a file's columns.
pub struct Layout {
    slots: Vec<(&'static str, Option<usize>)>,
    extras: Vec<(String, usize)>,
}

impl Layout {
    /// Maps a header; `Err` lists the missing required columns, or names a repeated one.
    pub fn new(kind: Kind, header: &[String]) -> Result<Layout, LayoutError> {
        let schema = kind.schema();
        for (i, h) in header.iter().enumerate() {
            // Spreadsheets often export trailing columns with no name; those are not repeats.
            if !h.is_empty() && header[..i].contains(h) {
                return Err(LayoutError::Repeated(h.clone()));
            }
        }
        let find = |f: &str| header.iter().position(|h| h == f);
        let missing: Vec<String> = schema
            .required
            .iter()
            .filter(|f| find(f).is_none())
            .map(|f| (*f).to_owned())
            .collect();
        if !missing.is_empty() {
            return Err(LayoutError::Missing(missing));
        }
        let slots = schema
            .required
            .iter()
            .chain(schema.optional)
            .map(|f| (*f, find(f)))
            .collect();
        let extras = header
            .iter()
            .enumerate()
            .filter(|(_, h)| !schema.is_known_field(h))
            // An unnamed column is kept under its position, so its values are not lost.
            .map(|(i, h)| {
                (
                    if h.is_empty() {
                        format!("column_{}", i + 1)
                    } else {
                        h.clone()
                    },
                    i,
                )
            })
            .collect();
        Ok(Layout { slots, extras })
    }

    fn index(&self, field: &str) -> Option<usize> {
        self.slots
            .iter()
            .find(|(f, _)| *f == field)
            .and_then(|(_, i)| *i)
    }
}

#[derive(Debug)]
pub enum LayoutError {
    Missing(Vec<String>),
    Repeated(String),
}

/// A record's fields, owned, so parsers can move values out instead of copying them.
pub struct Record<'a> {
    layout: &'a Layout,
    fields: Vec<String>,
}

/// Why a record was rejected: the field to blame (if one is) and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: Option<String>,
    pub reason: String,
}

impl FieldError {
    pub fn new(field: &str, reason: impl Into<String>) -> Self {
        FieldError {
            field: Some(field.to_owned()),
            reason: reason.into(),
        }
    }
}

impl<'a> Record<'a> {
    pub fn new(layout: &'a Layout, fields: Vec<String>) -> Result<Self, FieldError> {
        // PostgreSQL text cannot hold NUL and no field of ours has a use for one; refusing it
        // here keeps both stores accepting exactly the same records.
        if let Some(i) = fields.iter().position(|f| f.contains('\0')) {
            let name = layout
                .slots
                .iter()
                .find(|(_, idx)| *idx == Some(i))
                .map(|(f, _)| (*f).to_owned())
                .or_else(|| {
                    layout
                        .extras
                        .iter()
                        .find(|(_, idx)| *idx == i)
                        .map(|(h, _)| h.clone())
                });
            return Err(FieldError {
                field: name,
                reason: "contains a NUL character".to_owned(),
            });
        }
        Ok(Record { layout, fields })
    }

    /// The field's text; empty when the file has no such column.
    pub fn get(&self, field: &str) -> &str {
        self.layout
            .index(field)
            .and_then(|i| self.fields.get(i))
            .map_or("", String::as_str)
    }

    /// Moves the field's text out.
    pub fn take(&mut self, field: &str) -> String {
        match self
            .layout
            .index(field)
            .and_then(|i| self.fields.get_mut(i))
        {
            Some(s) => std::mem::take(s),
            None => String::new(),
        }
    }

    /// The non-empty columns outside the contract, as a JSON object.
    pub fn extra(&self) -> Option<String> {
        let map: serde_json::Map<String, serde_json::Value> = self
            .layout
            .extras
            .iter()
            .filter_map(|(name, i)| {
                let v = self.fields.get(*i)?;
                (!v.is_empty()).then(|| (name.clone(), serde_json::Value::String(v.clone())))
            })
            .collect();
        (!map.is_empty()).then(|| serde_json::Value::Object(map).to_string())
    }
}
