//! LVM text metadata: the config grammar (parser and writer) and its tree.

pub mod parser;
pub mod tree;
pub mod writer;

pub use parser::parse;
pub use tree::{Item, Node, Scalar, Section, Value};
pub use writer::{write_file, write_raw};
