mod dependencies;
mod machine;
mod service;
mod support;
