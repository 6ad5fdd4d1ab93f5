//! What a run found and everything that reads it: the result model
//! ([`model`]: verdicts and records, pure data), the report writers
//! ([`report`]: JSON, JUnit, Markdown, HTML), the history and its trend, shard
//! merging, the release comparison and the cost estimates. Writers only read
//! the model.

pub mod model;

internal!(compare, cost, history, report, shards, trend);
