{
  "variables": {
    # pcap.h (libpcap-dev) is optional at build time, and libpcap itself is loaded with dlopen at run time: without
    # either, the pcap backend and BPF filter strings say "not available in this build". NETHUNS_NO_PCAP=1 forces it.
    "have_pcap": "<!(node -p \"process.env.NETHUNS_NO_PCAP !== '1' && require('fs').existsSync('/usr/include/pcap/pcap.h') ? 1 : 0\")"
  },
  "targets": [{
    "target_name": "binding",
    "sources": [
      "src/native/binding.cc", "src/native/constants.cc", "src/native/af_packet.cc", "src/native/af_xdp.cc"
    ],
    "include_dirs": ["<!(node -p \"require('@x/native/gyp').include_dir\")"],
    "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
    "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "_GNU_SOURCE"],
    "cflags_cc": ["-Wall", "-Wextra", "-Wno-missing-field-initializers", "-fvisibility=hidden"],
    "conditions": [
      ["have_pcap==1", {
        "sources": ["src/native/libpcap.cc", "src/native/bpf.cc", "src/native/pcap.cc"],
        "defines": ["NETHUNS_HAVE_PCAP"],
        "libraries": ["-ldl"]
      }]
    ],
    "configurations": {"Debug": {"defines": ["DEBUG"]}, "Release": {"defines": ["NDEBUG"]}}
  }]
}
