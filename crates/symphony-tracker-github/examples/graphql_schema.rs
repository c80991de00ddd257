//! Run by `cargo xtask graphql`: checks every GraphQL document the adapter sends against
//! GitHub's full published schema (npm `@octokit/graphql-schema`), then writes the part of the
//! schema they use — the types, fields and arguments they reach, without descriptions or
//! GitHub's own directives — as the fixture the fake GitHub and the committed test validate
//! against. Fails, naming the problem, when a document is not valid on GitHub's schema.
//!
//! `graphql_schema <schema.graphql> <additions.graphql> <out.graphql> <source label>`: the
//! additions are what GitHub's live API serves beyond the package, each with its reference.

use std::collections::{BTreeMap, BTreeSet};

use apollo_compiler::executable::{Selection, SelectionSet};
use apollo_compiler::schema::{ComponentName, ExtendedType};
use apollo_compiler::{ExecutableDocument, Name, Schema};

type Failure = Box<dyn std::error::Error>;

/// What the documents use: the types, and the fields of each object and interface.
#[derive(Default)]
struct Used {
    types: BTreeSet<Name>,
    fields: BTreeMap<Name, BTreeSet<Name>>,
}

impl Used {
    /// An input or output type by name; input objects bring every field's type.
    fn input(&mut self, schema: &Schema, name: &Name) {
        if !self.types.insert(name.clone()) {
            return;
        }
        if let Some(ExtendedType::InputObject(input)) = schema.types.get(name) {
            for field in input.fields.values() {
                self.input(schema, field.ty.inner_named_type());
            }
        }
    }

    fn walk(&mut self, schema: &Schema, doc: &ExecutableDocument, set: &SelectionSet) {
        self.types.insert(set.ty.clone());
        for selection in &set.selections {
            match selection {
                Selection::Field(field) => {
                    if field.name.starts_with("__") {
                        continue;
                    }
                    self.fields
                        .entry(set.ty.clone())
                        .or_default()
                        .insert(field.name.clone());
                    for argument in &field.definition.arguments {
                        self.input(schema, argument.ty.inner_named_type());
                    }
                    self.input(schema, field.definition.ty.inner_named_type());
                    self.walk(schema, doc, &field.selection_set);
                }
                Selection::InlineFragment(inline) => self.walk(schema, doc, &inline.selection_set),
                Selection::FragmentSpread(spread) => {
                    if let Some(fragment) = doc.fragments.get(&spread.fragment_name) {
                        self.walk(schema, doc, &fragment.selection_set);
                    }
                }
            }
        }
    }

    /// An object or interface carries the used fields of every used interface it
    /// implements, as a schema requires; an interface selected only through fragments keeps
    /// its first field (a type has at least one).
    fn close_interfaces(&mut self, schema: &Schema) {
        for name in self.types.clone() {
            if let Some(ExtendedType::Interface(i)) = schema.types.get(&name) {
                let fields = self.fields.entry(name.clone()).or_default();
                if fields.is_empty() {
                    fields.extend(i.fields.keys().next().cloned());
                }
            }
        }
        loop {
            let mut added = false;
            for name in self.types.clone() {
                let implements = match schema.types.get(&name) {
                    Some(ExtendedType::Object(o)) => o.implements_interfaces.clone(),
                    Some(ExtendedType::Interface(i)) => i.implements_interfaces.clone(),
                    _ => continue,
                };
                for interface in implements.iter().filter(|i| self.types.contains(&i.name)) {
                    let wanted = self
                        .fields
                        .get(&interface.name)
                        .cloned()
                        .unwrap_or_default();
                    let mine = self.fields.entry(name.clone()).or_default();
                    for field in wanted {
                        added |= mine.insert(field);
                    }
                }
            }
            if !added {
                return;
            }
        }
    }
}

fn subset(full: &Schema, used: &Used) -> Result<Schema, Failure> {
    let mut out = Schema::new();
    for name in &used.types {
        let Some(ty) = full.types.get(name) else {
            return Err(format!("type {name} is used but not in the schema").into());
        };
        if ty.is_built_in() {
            continue;
        }
        let fields = used.fields.get(name).cloned().unwrap_or_default();
        let ty = match ty.clone() {
            ExtendedType::Object(mut node) => {
                let o = node.make_mut();
                o.description = None;
                o.directives.clear();
                o.implements_interfaces
                    .retain(|i| used.types.contains(&i.name));
                o.fields.retain(|f, _| fields.contains(f));
                o.fields
                    .values_mut()
                    .for_each(|f| strip_field(f.node.make_mut()));
                if o.fields.is_empty() {
                    return Err(format!("object {name} is used with no field").into());
                }
                ExtendedType::Object(node)
            }
            ExtendedType::Interface(mut node) => {
                let i = node.make_mut();
                i.description = None;
                i.directives.clear();
                i.implements_interfaces
                    .retain(|i| used.types.contains(&i.name));
                i.fields.retain(|f, _| fields.contains(f));
                i.fields
                    .values_mut()
                    .for_each(|f| strip_field(f.node.make_mut()));
                if i.fields.is_empty() {
                    return Err(format!("interface {name} is used with no field").into());
                }
                ExtendedType::Interface(node)
            }
            ExtendedType::Union(mut node) => {
                let u = node.make_mut();
                u.description = None;
                u.directives.clear();
                u.members.retain(|m| used.types.contains(&m.name));
                if u.members.is_empty() {
                    return Err(format!("union {name} is used with no member").into());
                }
                ExtendedType::Union(node)
            }
            ExtendedType::Enum(mut node) => {
                let e = node.make_mut();
                e.description = None;
                e.directives.clear();
                for value in e.values.values_mut() {
                    let v = value.node.make_mut();
                    v.description = None;
                    v.directives.clear();
                }
                ExtendedType::Enum(node)
            }
            ExtendedType::InputObject(mut node) => {
                let input = node.make_mut();
                input.description = None;
                input.directives.clear();
                for field in input.fields.values_mut() {
                    let f = field.node.make_mut();
                    f.description = None;
                    f.directives.clear();
                }
                ExtendedType::InputObject(node)
            }
            ExtendedType::Scalar(mut node) => {
                let s = node.make_mut();
                s.description = None;
                s.directives.clear();
                ExtendedType::Scalar(node)
            }
        };
        out.types.insert(name.clone(), ty);
    }
    let roots = out.schema_definition.make_mut();
    let root = |op: Option<&ComponentName>| op.filter(|r| used.types.contains(&r.name)).cloned();
    roots.query = root(full.schema_definition.query.as_ref());
    roots.mutation = root(full.schema_definition.mutation.as_ref());
    Ok(out)
}

fn strip_field(field: &mut apollo_compiler::ast::FieldDefinition) {
    field.description = None;
    field.directives.clear();
    for argument in &mut field.arguments {
        let a = argument.make_mut();
        a.description = None;
        a.directives.clear();
    }
}

fn main() -> Result<(), Failure> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [schema_path, additions_path, out_path, source] = args.as_slice() else {
        return Err(
            "usage: graphql_schema <schema.graphql> <additions.graphql> <out.graphql> <source label>"
                .into(),
        );
    };
    // What the live API serves beyond the published package, documented where it is listed.
    let additions = std::fs::read_to_string(additions_path)?;
    let mut extended = "";
    for line in additions.lines().map(str::trim) {
        if let Some(ty) = line.strip_prefix("extend type ") {
            extended = ty.trim_end_matches('{').trim();
        } else if !line.is_empty() && !line.starts_with('#') && line != "}" {
            println!("beyond {source}: {extended}.{line}");
        }
    }
    let text = std::fs::read_to_string(schema_path)? + "\n" + &additions;
    let full = match Schema::parse_and_validate(text, schema_path) {
        Ok(full) => full,
        Err(invalid) => {
            // GitHub's published schema defines a few fields twice (same name, same type);
            // the first definition is kept. Anything else wrong with it stops here.
            let messages: Vec<String> =
                invalid.errors.iter().map(|d| d.to_json().message).collect();
            if !messages.iter().all(|m| {
                m.starts_with("duplicate definitions for the `") && m.contains(" field of ")
            }) {
                return Err(
                    format!("GitHub's schema does not validate: {}", invalid.errors).into(),
                );
            }
            println!("GitHub's schema, as published, has {} duplicate field definition(s); the first of each is kept:", messages.len());
            for message in &messages {
                println!("  {message}");
            }
            apollo_compiler::validation::Valid::assume_valid(invalid.partial)
        }
    };
    let mut used = Used::default();
    let documents = symphony_tracker_github::sent_documents();
    for document in &documents {
        let name = symphony_tracker_github::operation_name(document).unwrap_or("unnamed");
        let doc = ExecutableDocument::parse_and_validate(&full, document.as_str(), name)
            .map_err(|e| format!("{name} is not valid on GitHub's schema:\n{}", e.errors))?;
        for operation in doc.operations.iter() {
            for variable in &operation.variables {
                used.input(&full, variable.ty.inner_named_type());
            }
            used.walk(&full, &doc, &operation.selection_set);
        }
    }
    used.close_interfaces(&full);
    let part = subset(&full, &used)?;
    let printed = format!(
        "# GitHub's GraphQL schema, the part Symphony's GitHub adapter uses: generated by\n\
         # `cargo xtask graphql` from {source} (MIT License, see\n\
         # github-graphql.LICENSE), with what github-graphql-additions.graphql lists (the live\n\
         # API beyond the package, as `extend type`). Do not edit; regenerate.\n\n{part}"
    );
    let check = Schema::parse_and_validate(printed.as_str(), out_path.as_str())
        .map_err(|e| format!("the generated subset does not validate: {}", e.errors))?;
    for document in &documents {
        ExecutableDocument::parse_and_validate(&check, document.as_str(), "document")
            .map_err(|e| format!("a document does not validate on the subset: {}", e.errors))?;
    }
    std::fs::write(out_path, &printed)?;
    println!(
        "wrote {out_path} ({} KB, {} types, {} documents checked against {source})",
        printed.len() / 1024,
        used.types.len(),
        documents.len()
    );
    Ok(())
}
