//! The kycd-screening integration tests, one binary: loaders, matcher,
//! normaliser, and the evaluation on the real lists.

mod loaders;
mod matcher;
mod normalize;
mod quality;
mod real_data;
mod scripts;
