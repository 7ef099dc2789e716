// Name-service lookups (passwd and group databases through NSS, the _r variants): who a peer uid is, which groups
// a user belongs to. Node has none of these for *other* users (os.userInfo covers only the current process).
// Not found → null (or an empty list); real failures (EIO, ENOMEM, …) throw { code, errno, syscall }.
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "binding.h"

namespace xnative {

static Napi::Value PasswdObject(Napi::Env env, const passwd &pw) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("name", pw.pw_name ? pw.pw_name : "");
  o.Set("uid", Napi::Number::New(env, pw.pw_uid));
  o.Set("gid", Napi::Number::New(env, pw.pw_gid));
  o.Set("gecos", pw.pw_gecos ? pw.pw_gecos : "");
  o.Set("dir", pw.pw_dir ? pw.pw_dir : "");
  o.Set("shell", pw.pw_shell ? pw.pw_shell : "");
  return o;
}

static Napi::Value GroupObject(Napi::Env env, const group &gr) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("name", gr.gr_name ? gr.gr_name : "");
  o.Set("gid", Napi::Number::New(env, gr.gr_gid));
  Napi::Array members = Napi::Array::New(env);
  uint32_t n = 0;
  for (char **m = gr.gr_mem; m != nullptr && *m != nullptr; m++) members.Set(n++, *m);
  o.Set("members", members);
  return o;
}

// Calls fn(buf, size) → 0 or an errno (the getpw*_r convention), growing the buffer on ERANGE, retrying EINTR.
template <typename F>
static int WithBuffer(std::vector<char> &buf, F fn) {
  long hint = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  buf.resize(hint > 0 ? static_cast<size_t>(hint) : 4096);
  for (;;) {
    int r = fn(buf.data(), buf.size());
    if (r == EINTR) continue;
    if (r == ERANGE && buf.size() < (1u << 24)) {
      buf.resize(buf.size() * 2);
      continue;
    }
    return r;
  }
}

// getpwuid(uid) → { name, uid, gid, gecos, dir, shell } | null
static Napi::Value Getpwuid(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  uid_t uid = static_cast<uid_t>(x::UintArg(info, 0));
  passwd pw{};
  passwd *res = nullptr;
  std::vector<char> buf;
  int r = WithBuffer(buf, [&](char *b, size_t n) { return ::getpwuid_r(uid, &pw, b, n, &res); });
  if (res == nullptr) {
    if (r == 0 || r == ENOENT || r == ESRCH || r == EBADF || r == EPERM) return env.Null();
    throw x::ErrnoError(env, r, "getpwuid_r");
  }
  return PasswdObject(env, pw);
}

// getpwnam(name) → { … } | null
static Napi::Value Getpwnam(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw Napi::TypeError::New(env, "getpwnam: name must be a string");
  std::string name = info[0].As<Napi::String>();
  passwd pw{};
  passwd *res = nullptr;
  std::vector<char> buf;
  int r = WithBuffer(buf, [&](char *b, size_t n) { return ::getpwnam_r(name.c_str(), &pw, b, n, &res); });
  if (res == nullptr) {
    if (r == 0 || r == ENOENT || r == ESRCH || r == EBADF || r == EPERM) return env.Null();
    throw x::ErrnoError(env, r, "getpwnam_r");
  }
  return PasswdObject(env, pw);
}

// getgrnam(name) → { name, gid, members } | null
static Napi::Value Getgrnam(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw Napi::TypeError::New(env, "getgrnam: name must be a string");
  std::string name = info[0].As<Napi::String>();
  group gr{};
  group *res = nullptr;
  std::vector<char> buf;
  int r = WithBuffer(buf, [&](char *b, size_t n) { return ::getgrnam_r(name.c_str(), &gr, b, n, &res); });
  if (res == nullptr) {
    if (r == 0 || r == ENOENT || r == ESRCH || r == EBADF || r == EPERM) return env.Null();
    throw x::ErrnoError(env, r, "getgrnam_r");
  }
  return GroupObject(env, gr);
}

// getgrgid(gid) → { name, gid, members } | null
static Napi::Value Getgrgid(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  gid_t gid = static_cast<gid_t>(x::UintArg(info, 0));
  group gr{};
  group *res = nullptr;
  std::vector<char> buf;
  int r = WithBuffer(buf, [&](char *b, size_t n) { return ::getgrgid_r(gid, &gr, b, n, &res); });
  if (res == nullptr) {
    if (r == 0 || r == ENOENT || r == ESRCH || r == EBADF || r == EPERM) return env.Null();
    throw x::ErrnoError(env, r, "getgrgid_r");
  }
  return GroupObject(env, gr);
}

// getgrouplist(name, gid) → gid[] (gid first, then every group of the group database listing name as a member)
static Napi::Value Getgrouplist(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw Napi::TypeError::New(env, "getgrouplist: name must be a string");
  std::string name = info[0].As<Napi::String>();
  gid_t gid = static_cast<gid_t>(x::UintArg(info, 1));
  std::vector<gid_t> groups(32);
  for (;;) {
    int n = static_cast<int>(groups.size());
    int r = ::getgrouplist(name.c_str(), gid, groups.data(), &n);
    if (r >= 0) {
      groups.resize(static_cast<size_t>(r));
      break;
    }
    // -1: too small; n now holds the size needed (glibc). Guard against a non-growing answer.
    size_t want = n > static_cast<int>(groups.size()) ? static_cast<size_t>(n) : groups.size() * 2;
    if (want > (1u << 20)) throw x::ErrnoError(env, ERANGE, "getgrouplist");
    groups.resize(want);
  }
  Napi::Array a = Napi::Array::New(env, groups.size());
  for (size_t i = 0; i < groups.size(); i++) a.Set(static_cast<uint32_t>(i), Napi::Number::New(env, groups[i]));
  return a;
}

void InitNss(Napi::Env env, Napi::Object exports) {
  exports.Set("getpwuid", Napi::Function::New(env, Getpwuid, "getpwuid"));
  exports.Set("getpwnam", Napi::Function::New(env, Getpwnam, "getpwnam"));
  exports.Set("getgrnam", Napi::Function::New(env, Getgrnam, "getgrnam"));
  exports.Set("getgrgid", Napi::Function::New(env, Getgrgid, "getgrgid"));
  exports.Set("getgrouplist", Napi::Function::New(env, Getgrouplist, "getgrouplist"));
}

}  // namespace xnative
