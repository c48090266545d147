//! The documentation generated from the settings' declarations is the one
//! committed: the README's tables and `simplejwt.example.toml`.

use simplejwt::settings::docs;

fn committed(path: &str) -> String {
    let root = env!("CARGO_MANIFEST_DIR");
    std::fs::read_to_string(format!("{root}/{path}")).expect(path)
}

#[test]
fn readme_settings_tables_are_generated_from_the_declarations() {
    let readme = committed("README.md");
    let start = "<!-- settings-tables:start -->\n";
    let end = "<!-- settings-tables:end -->";
    let from = readme.find(start).expect("start marker") + start.len();
    let to = readme.find(end).expect("end marker");
    assert_eq!(
        &readme[from..to],
        docs::readme_tables(),
        "README.md is out of date: replace the block with `simplejwt settings --markdown`"
    );
}

#[test]
fn example_configuration_is_generated_from_the_declarations() {
    assert_eq!(
        committed("simplejwt.example.toml"),
        docs::toml_example(),
        "simplejwt.example.toml is out of date: `simplejwt settings --toml > simplejwt.example.toml`"
    );
}

#[test]
fn example_configuration_loads_as_written_and_uncommented() {
    // Every line uncommented gives the defaults back.
    let text: String = docs::toml_example()
        .lines()
        .map(|l| match l.strip_prefix("# ") {
            Some(rest)
                if rest.split_once(" = ").is_some_and(|(k, _)| {
                    k.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
                }) =>
            {
                format!("{rest}\n")
            }
            _ => format!("{l}\n"),
        })
        .collect();
    let doc: toml::Table = text.parse().expect("valid TOML");
    let jwt = doc["simple_jwt"].as_table().unwrap();
    let pairs = jwt
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()));
    let settings = simplejwt::Settings::from_pairs(pairs).expect("defaults parse");
    assert_eq!(
        settings.describe(),
        simplejwt::Settings::default().describe()
    );
    let server = doc["server"].as_table().unwrap();
    let pairs = server
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()));
    simplejwt::settings::ServerOptions::from_pairs(pairs).expect("server defaults parse");
}
