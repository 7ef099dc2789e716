{
  "targets": [{
    "target_name": "binding",
    "sources": ["src/native/binding.cc"],
    "include_dirs": ["<!(node -p \"require('@x/native/gyp').include_dir\")"],
    "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
    "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "_GNU_SOURCE"],
    "cflags_cc": ["-Wall", "-Wextra", "-Wno-missing-field-initializers", "-Wno-pedantic", "-fvisibility=hidden"],
    "configurations": {"Debug": {"defines": ["DEBUG"]}, "Release": {"defines": ["NDEBUG"]}}
  }]
}
