//! The two migration trees (SQLite, PostgreSQL) must describe one schema: a
//! test reads both and allows them to differ only where the dialects must.

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    /// PostgreSQL-only statements: storage tuning with no SQLite counterpart.
    const POSTGRES_ONLY: &[&str] = &[
        "ALTER TABLE deliveries SET (autovacuum_",
        "ALTER TABLE events SET (autovacuum_",
    ];

    /// Each file's statements, comments and layout removed.
    fn tree(dialect: &str) -> BTreeMap<String, Vec<String>> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(dialect);
        let mut files = BTreeMap::new();
        for entry in std::fs::read_dir(&dir).expect("migration tree") {
            let path = entry.expect("entry").path();
            let text = std::fs::read_to_string(&path).expect("migration");
            let code: String = text
                .lines()
                .map(|l| l.split("--").next().unwrap_or(""))
                .collect::<Vec<_>>()
                .join(" ");
            let statements = code
                .split(';')
                .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
                .filter(|s| !s.is_empty())
                .collect();
            files.insert(
                path.file_name().unwrap().to_string_lossy().into_owned(),
                statements,
            );
        }
        files
    }

    #[test]
    fn migration_trees_differ_only_where_the_dialects_must() {
        let sqlite = tree("sqlite");
        let postgres = tree("postgres");
        assert_eq!(
            sqlite.keys().collect::<Vec<_>>(),
            postgres.keys().collect::<Vec<_>>(),
            "both trees hold the same migrations"
        );
        let mut postgres_only_seen = 0;
        for (file, lite) in &sqlite {
            let pg: Vec<&String> = postgres[file]
                .iter()
                .filter(|s| {
                    let only = POSTGRES_ONLY.iter().any(|p| s.starts_with(p));
                    postgres_only_seen += only as usize;
                    !only
                })
                .collect();
            assert_eq!(lite.len(), pg.len(), "{file}: statement count");
            for (a, b) in lite.iter().zip(pg) {
                assert_eq!(a, b, "{file}: the trees differ");
            }
        }
        assert_eq!(
            postgres_only_seen,
            POSTGRES_ONLY.len(),
            "every allowed PostgreSQL-only statement is still there (else drop it from the list)"
        );
    }
}
