//! Linear's GraphQL schema from the types `@linear/sdk` publishes. Linear ships its schema to
//! npm only as the TypeScript that GraphQL Code Generator writes from it (`dist/index-*.d.mts`:
//! one `type T = { field: … }` per object or input type, `TFieldArgs` for arguments,
//! `declare enum` for enums, `Scalars` for scalars, `A | B` for unions, `Node & { … }` for
//! implemented interfaces). That generator's output is regular, so it reads back into SDL
//! exactly: nullability from `Maybe<…>`/`InputMaybe<…>`, lists from `Array<…>`. Only what the
//! given root fields reach is written (the rest of Linear's 4000 types are not needed to
//! validate Symphony's documents).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use anyhow::{bail, Context, Result};

/// One `type X = … { … }` block.
#[derive(Debug, Default)]
struct Block {
    /// `Node` in `Node & { … }`.
    interfaces: Vec<String>,
    /// `(name, optional?, type text)`.
    fields: Vec<(String, bool, String)>,
    /// Whether it has `__typename` (an output object; inputs and args have none).
    object: bool,
}

#[derive(Debug, Default)]
struct Types {
    blocks: BTreeMap<String, Block>,
    enums: BTreeMap<String, Vec<String>>,
    unions: BTreeMap<String, Vec<String>>,
    scalars: BTreeSet<String>,
}

fn is_ident(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn parse(text: &str) -> Result<Types> {
    let mut types = Types::default();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if let Some(rest) = line.strip_prefix("declare enum ") {
            let name = rest.trim_end_matches(" {").trim().to_owned();
            let mut values = Vec::new();
            for line in lines.by_ref() {
                let line = line.trim();
                if line == "}" {
                    break;
                }
                // `Name = "value",`: GraphQL's value is the string.
                if let Some((_, value)) = line.split_once(" = ") {
                    values.push(value.trim_end_matches(',').trim_matches('"').to_owned());
                }
            }
            types.enums.insert(name, values);
            continue;
        }
        let Some(rest) = line.strip_prefix("type ") else {
            continue;
        };
        let Some((name, body)) = rest.split_once(" = ") else {
            continue;
        };
        if !is_ident(name) {
            continue;
        }
        if name == "Scalars" {
            for line in lines.by_ref() {
                let line = line.trim();
                if line == "};" {
                    break;
                }
                if let Some((key, _)) = line.split_once(':') {
                    if is_ident(key) {
                        types.scalars.insert(key.to_owned());
                    }
                }
            }
            continue;
        }
        if let Some(members) = body.strip_suffix(';') {
            let members: Vec<String> = members.split(" | ").map(|m| m.trim().to_owned()).collect();
            if members.len() > 1 && members.iter().all(|m| is_ident(m)) {
                types.unions.insert(name.to_owned(), members);
            }
            continue;
        }
        let Some(head) = body.strip_suffix('{') else {
            continue;
        };
        let interfaces: Vec<String> = head
            .split('&')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        if !interfaces.iter().all(|i| is_ident(i)) {
            continue;
        }
        let mut block = Block {
            interfaces,
            ..Block::default()
        };
        let mut depth = 1;
        for line in lines.by_ref() {
            let trimmed = line.trim();
            if trimmed.starts_with("/*") || trimmed.starts_with('*') {
                continue;
            }
            depth += trimmed.matches('{').count();
            depth -= trimmed.matches('}').count();
            if depth == 0 {
                break;
            }
            // Fields sit at two spaces; anything deeper is an inline type we do not need.
            if depth != 1 || !line.starts_with("  ") || line.starts_with("   ") {
                continue;
            }
            let Some((key, ty)) = trimmed.split_once(": ") else {
                continue;
            };
            let optional = key.ends_with('?');
            let key = key.trim_end_matches('?');
            if key == "__typename" {
                block.object = true;
                continue;
            }
            if is_ident(key) {
                block.fields.push((
                    key.to_owned(),
                    optional,
                    ty.trim_end_matches(';').to_owned(),
                ));
            }
        }
        types.blocks.insert(name.to_owned(), block);
    }
    Ok(types)
}

/// The GraphQL type a TypeScript field type stands for, and the named type inside it.
fn graphql_type(ts: &str) -> Result<(String, String)> {
    let ts = ts.trim();
    for wrapper in ["Maybe<", "InputMaybe<"] {
        if let Some(inner) = ts.strip_prefix(wrapper).and_then(|s| s.strip_suffix('>')) {
            let (ty, named) = graphql_type(inner)?;
            return Ok((ty.trim_end_matches('!').to_owned(), named));
        }
    }
    if let Some(inner) = ts.strip_prefix("Array<").and_then(|s| s.strip_suffix('>')) {
        let (ty, named) = graphql_type(inner)?;
        return Ok((format!("[{ty}]!"), named));
    }
    if let Some(inner) = ts
        .strip_prefix("Scalars[\"")
        .and_then(|s| s.strip_suffix("\"]"))
    {
        return Ok((format!("{inner}!"), inner.to_owned()));
    }
    if is_ident(ts) {
        return Ok((format!("{ts}!"), ts.to_owned()));
    }
    bail!("cannot read the TypeScript type {ts:?}")
}

const BUILT_IN: [&str; 5] = ["String", "Int", "Float", "Boolean", "ID"];

/// SDL for the closure of `roots` (`Query.issues`, …): every type they reach, whole.
pub fn to_sdl(text: &str, roots: &[(&str, &str)]) -> Result<String> {
    let types = parse(text).context("reading the SDK's types")?;
    let interfaces: BTreeSet<&str> = types
        .blocks
        .values()
        .flat_map(|b| b.interfaces.iter().map(String::as_str))
        .collect();
    let mut wanted: Vec<String> = Vec::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut out = String::new();
    let mut root_fields: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (root, field) in roots {
        root_fields.entry(root).or_default().push(field);
        if seen.insert((*root).to_owned()) {
            wanted.push((*root).to_owned());
        }
    }
    // The generator names argument types `{Type}{Field}Args` in its own Pascal case
    // (`attachmentLinkURL` gives `AttachmentLinkUrl`): found without regard to case.
    let args_by_lowercase: BTreeMap<String, &Block> = types
        .blocks
        .iter()
        .filter(|(name, _)| name.ends_with("Args"))
        .map(|(name, block)| (name.to_lowercase(), block))
        .collect();
    let mut implementers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, block) in &types.blocks {
        for interface in &block.interfaces {
            implementers
                .entry(interface.clone())
                .or_default()
                .push(name.clone());
        }
    }
    while let Some(name) = wanted.pop() {
        let mut need = |named: &str, wanted: &mut Vec<String>| {
            if seen.insert(named.to_owned()) {
                wanted.push(named.to_owned());
            }
        };
        if BUILT_IN.contains(&name.as_str()) {
            continue;
        }
        if types.scalars.contains(&name) {
            writeln!(out, "scalar {name}\n")?;
            continue;
        }
        if let Some(values) = types.enums.get(&name) {
            writeln!(out, "enum {name} {{\n  {}\n}}\n", values.join("\n  "))?;
            continue;
        }
        if let Some(members) = types.unions.get(&name) {
            for member in members {
                need(member, &mut wanted);
            }
            writeln!(out, "union {name} = {}\n", members.join(" | "))?;
            continue;
        }
        let Some(block) = types.blocks.get(&name) else {
            bail!("type {name} is referenced but not defined in the SDK's types");
        };
        let only: Option<&Vec<&str>> = root_fields.get(name.as_str());
        let is_interface = interfaces.contains(name.as_str());
        let keyword = if is_interface {
            "interface"
        } else if block.object || only.is_some() {
            "type"
        } else {
            "input"
        };
        let mut fields: Vec<(String, bool, String)> = block.fields.clone();
        // `Node & { … }`: the interface's fields belong to the type too.
        for interface in &block.interfaces {
            need(interface, &mut wanted);
            if let Some(parent) = types.blocks.get(interface) {
                for field in &parent.fields {
                    if !fields.iter().any(|f| f.0 == field.0) {
                        fields.push(field.clone());
                    }
                }
            }
        }
        if is_interface {
            // An interface is only useful with the types that implement it reachable.
            for implementer in implementers.get(&name).into_iter().flatten() {
                if types.blocks.get(implementer).is_some_and(|b| b.object) {
                    need(implementer, &mut wanted);
                }
            }
        }
        let implements = if block.interfaces.is_empty() {
            String::new()
        } else {
            format!(" implements {}", block.interfaces.join(" & "))
        };
        writeln!(out, "{keyword} {name}{implements} {{")?;
        for (field, _optional, ts) in &fields {
            if only.is_some_and(|o| !o.contains(&field.as_str())) {
                continue;
            }
            let (ty, named) = graphql_type(ts).with_context(|| format!("{name}.{field}"))?;
            need(&named, &mut wanted);
            let mut arguments = Vec::new();
            if keyword != "input" {
                if let Some(args) =
                    args_by_lowercase.get(&format!("{name}{field}args").to_lowercase())
                {
                    for (arg, _, ts) in &args.fields {
                        let (ty, named) =
                            graphql_type(ts).with_context(|| format!("{name}.{field}({arg})"))?;
                        need(&named, &mut wanted);
                        arguments.push(format!("{arg}: {ty}"));
                    }
                }
            }
            let arguments = if arguments.is_empty() {
                String::new()
            } else {
                format!("({})", arguments.join(", "))
            };
            writeln!(out, "  {field}{arguments}: {ty}")?;
        }
        writeln!(out, "}}\n")?;
    }
    Ok(out)
}
