# expect: none
let hf_hub_download = 1;
let npm_package_version = "1.2.3";
fn ghp_helper() {}
let akia = "akia lowercase is not a key id";
