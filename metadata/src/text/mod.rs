//! LVM text metadata: the config grammar (parser and writer) and its tree.

pub mod tree;

pub use tree::{Item, Node, Scalar, Section, Value};
