// x/native.h — the @x native toolkit, header only. Every addon of the monorepo includes it:
//   binding.gyp: "include_dirs": ["<!(node -p \"require('@x/native/gyp').include_dir\")"]
#pragma once
#include "bytes.h"
#include "env.h"
#include "errno.h"
#include "fd.h"
#include "mapping.h"
#include "poll.h"
#include "poll_object.h"
#include "rights.h"
