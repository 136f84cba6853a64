mod dependencies;
mod machine;
mod mocks;
mod service;
mod support;
