//! Everything that reads what a run found (the [`crate::model`]): the report
//! writers (JSON, JUnit, Markdown, HTML), the history and its trend, shard
//! merging, the release comparison, and the cost estimates. Writers only read
//! the model.

internal!(compare, cost, history, report, shards, trend);
