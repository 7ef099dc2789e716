{
  "targets": [{
    "target_name": "binding",
    "sources": [
      "src/native/binding.cc", "src/native/constants.cc", "src/native/fd.cc",
      "src/native/mmap.cc", "src/native/socket.cc", "src/native/watcher.cc",
      "src/native/nss.cc", "src/native/mmsg.cc", "src/native/bpf.cc",
      "src/native/sendmmsg.cc", "src/native/msgarena.cc"
    ],
    "include_dirs": ["include"],
    "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
    "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "_GNU_SOURCE"],
    "cflags_cc": ["-Wall", "-Wextra", "-Wno-missing-field-initializers", "-fvisibility=hidden"],
    "configurations": {"Debug": {"defines": ["DEBUG"]}, "Release": {"defines": ["NDEBUG"]}}
  }]
}
