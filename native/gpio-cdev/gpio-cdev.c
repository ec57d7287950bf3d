// The Linux GPIO character device, uAPI v2 (linux/gpio.h), for Node: no
// libgpiod, so the same build works on systems with libgpiod 1.6, 2.x or none.
// One request per line; its fd is handed to JS so that another thread of the
// process (the reject thread) can drive the line with GPIO_V2_LINE_SET_VALUES_IOCTL.
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <linux/gpio.h>
#include <node_api.h>
#include <uv.h>

static const char *errno_code(int e) {
  switch (e) {
    case EBUSY: return "EBUSY";
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case EINVAL: return "EINVAL";
    case ENOTTY: return "ENOTTY";
    case ENODEV: return "ENODEV";
    case ENXIO: return "ENXIO";
    case EBADF: return "EBADF";
    case EIO: return "EIO";
    default: return "EGPIO";
  }
}

static napi_value throw_errno(napi_env env, const char *what, int e) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(e));
  napi_throw_error(env, errno_code(e), msg);
  return NULL;
}

static napi_value throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, "EINVAL", msg);
  return NULL;
}

static int arg_int(napi_env env, napi_value v, int32_t *out) {
  return napi_get_value_int32(env, v, out) == napi_ok;
}

static napi_value make_int(napi_env env, int64_t n) {
  napi_value v;
  napi_create_int64(env, n, &v);
  return v;
}

static napi_value make_str(napi_env env, const char *s) {
  napi_value v;
  napi_create_string_utf8(env, s, strnlen(s, GPIO_MAX_NAME_SIZE), &v);
  return v;
}

static void set_prop(napi_env env, napi_value obj, const char *key, napi_value v) {
  napi_set_named_property(env, obj, key, v);
}

#define ARGS(n)                                   \
  size_t argc = n;                                \
  napi_value argv[n];                             \
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL); \
  if (argc < n) return throw_type(env, "missing arguments")

// chipOpen(path) -> fd
static napi_value chip_open(napi_env env, napi_callback_info info) {
  ARGS(1);
  char path[4096];
  size_t len;
  if (napi_get_value_string_utf8(env, argv[0], path, sizeof path, &len) != napi_ok) return throw_type(env, "path must be a string");
  int fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0) return throw_errno(env, path, errno);
  struct gpiochip_info ci;
  if (ioctl(fd, GPIO_GET_CHIPINFO_IOCTL, &ci) < 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, "not a GPIO chip", e);
  }
  return make_int(env, fd);
}

// chipInfo(fd) -> { name, label, lines }
static napi_value chip_info(napi_env env, napi_callback_info info) {
  ARGS(1);
  int32_t fd;
  if (!arg_int(env, argv[0], &fd)) return throw_type(env, "fd must be an integer");
  struct gpiochip_info ci;
  memset(&ci, 0, sizeof ci);
  if (ioctl(fd, GPIO_GET_CHIPINFO_IOCTL, &ci) < 0) return throw_errno(env, "GPIO_GET_CHIPINFO_IOCTL", errno);
  napi_value o;
  napi_create_object(env, &o);
  set_prop(env, o, "name", make_str(env, ci.name));
  set_prop(env, o, "label", make_str(env, ci.label));
  set_prop(env, o, "lines", make_int(env, ci.lines));
  return o;
}

// lineInfo(chipFd, offset) -> { offset, name, consumer, flags }
static napi_value line_info(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t fd, offset;
  if (!arg_int(env, argv[0], &fd) || !arg_int(env, argv[1], &offset) || offset < 0) return throw_type(env, "fd and offset must be integers");
  struct gpio_v2_line_info li;
  memset(&li, 0, sizeof li);
  li.offset = (uint32_t)offset;
  if (ioctl(fd, GPIO_V2_GET_LINEINFO_IOCTL, &li) < 0) return throw_errno(env, "GPIO_V2_GET_LINEINFO_IOCTL", errno);
  napi_value o;
  napi_create_object(env, &o);
  set_prop(env, o, "offset", make_int(env, li.offset));
  set_prop(env, o, "name", make_str(env, li.name));
  set_prop(env, o, "consumer", make_str(env, li.consumer));
  set_prop(env, o, "flags", make_int(env, (int64_t)(li.flags & 0xffffffffu)));
  return o;
}

// lineRequest(chipFd, offset, flags, value, consumer, debounceUs) -> request fd
static napi_value line_request(napi_env env, napi_callback_info info) {
  ARGS(6);
  int32_t fd, offset, flags, value, debounce;
  if (!arg_int(env, argv[0], &fd) || !arg_int(env, argv[1], &offset) || !arg_int(env, argv[2], &flags) || !arg_int(env, argv[3], &value) ||
      !arg_int(env, argv[5], &debounce) || offset < 0 || debounce < 0)
    return throw_type(env, "fd, offset, flags, value and debounce must be integers");
  struct gpio_v2_line_request req;
  memset(&req, 0, sizeof req);
  req.offsets[0] = (uint32_t)offset;
  req.num_lines = 1;
  size_t len;
  if (napi_get_value_string_utf8(env, argv[4], req.consumer, sizeof req.consumer, &len) != napi_ok) return throw_type(env, "consumer must be a string");
  req.config.flags = (uint32_t)flags;
  unsigned n = 0;
  if (flags & GPIO_V2_LINE_FLAG_OUTPUT) {
    req.config.attrs[n].attr.id = GPIO_V2_LINE_ATTR_ID_OUTPUT_VALUES;
    req.config.attrs[n].attr.values = value ? 1 : 0;
    req.config.attrs[n].mask = 1;
    n++;
  }
  if (debounce > 0) {
    req.config.attrs[n].attr.id = GPIO_V2_LINE_ATTR_ID_DEBOUNCE;
    req.config.attrs[n].attr.debounce_period_us = (uint32_t)debounce;
    req.config.attrs[n].mask = 1;
    n++;
  }
  req.config.num_attrs = n;
  if (ioctl(fd, GPIO_V2_GET_LINE_IOCTL, &req) < 0) return throw_errno(env, "GPIO_V2_GET_LINE_IOCTL", errno);
  // Edge events are read from the loop when the fd is readable: never block it.
  int fl = fcntl(req.fd, F_GETFL);
  if (fl < 0 || fcntl(req.fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(req.fd, F_SETFD, FD_CLOEXEC) < 0) {
    int e = errno;
    close(req.fd);
    return throw_errno(env, "fcntl", e);
  }
  return make_int(env, req.fd);
}

// lineSet(requestFd, value): the logical level (active-low is the kernel's, from the request flags).
static napi_value line_set(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t fd;
  bool on;
  if (!arg_int(env, argv[0], &fd)) return throw_type(env, "fd must be an integer");
  if (napi_get_value_bool(env, argv[1], &on) != napi_ok) return throw_type(env, "value must be a boolean");
  struct gpio_v2_line_values v = {.bits = on ? 1 : 0, .mask = 1};
  if (ioctl(fd, GPIO_V2_LINE_SET_VALUES_IOCTL, &v) < 0) return throw_errno(env, "GPIO_V2_LINE_SET_VALUES_IOCTL", errno);
  return NULL;
}

// lineGet(requestFd) -> boolean (logical)
static napi_value line_get(napi_env env, napi_callback_info info) {
  ARGS(1);
  int32_t fd;
  if (!arg_int(env, argv[0], &fd)) return throw_type(env, "fd must be an integer");
  struct gpio_v2_line_values v = {.bits = 0, .mask = 1};
  if (ioctl(fd, GPIO_V2_LINE_GET_VALUES_IOCTL, &v) < 0) return throw_errno(env, "GPIO_V2_LINE_GET_VALUES_IOCTL", errno);
  napi_value r;
  napi_get_boolean(env, (v.bits & 1) != 0, &r);
  return r;
}

// close(fd)
static napi_value fd_close(napi_env env, napi_callback_info info) {
  ARGS(1);
  int32_t fd;
  if (!arg_int(env, argv[0], &fd)) return throw_type(env, "fd must be an integer");
  if (close(fd) < 0) return throw_errno(env, "close", errno);
  return NULL;
}

// monotonicMs(): CLOCK_MONOTONIC, the clock of edge timestamps (and of uv_hrtime / process.hrtime).
static napi_value monotonic_ms(napi_env env, napi_callback_info info) {
  (void)info;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  napi_value v;
  napi_create_double(env, (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6, &v);
  return v;
}

typedef struct {
  uv_poll_t poll;
  napi_env env;
  napi_ref callback;
  int fd;
} watch_t;

static void watch_closed(uv_handle_t *h) { free(h->data); }

static void watch_stop(watch_t *w) {
  if (w->callback) {
    napi_delete_reference(w->env, w->callback);
    w->callback = NULL;
    uv_poll_stop(&w->poll);
    uv_close((uv_handle_t *)&w->poll, watch_closed);
  }
}

// Calls back (error) on a read error, else once per edge: (null, rising, tMs, lineSeqno).
static void watch_ready(uv_poll_t *p, int status, int events) {
  (void)events;
  watch_t *w = p->data;
  napi_env env = w->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value cb, global, undef;
  napi_get_reference_value(env, w->callback, &cb);
  napi_get_global(env, &global);
  napi_get_undefined(env, &undef);
  if (status < 0) {
    napi_value msg, err;
    napi_create_string_utf8(env, uv_strerror(status), NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &err);
    napi_call_function(env, global, cb, 1, &err, NULL);
    napi_close_handle_scope(env, scope);
    return;
  }
  struct gpio_v2_line_event ev[16];
  for (;;) {
    ssize_t n = read(w->fd, ev, sizeof ev);
    if (n < 0) {
      if (errno != EAGAIN && errno != EINTR) {
        napi_value msg, err;
        napi_create_string_utf8(env, strerror(errno), NAPI_AUTO_LENGTH, &msg);
        napi_create_error(env, NULL, msg, &err);
        napi_call_function(env, global, cb, 1, &err, NULL);
      }
      break;
    }
    size_t count = (size_t)n / sizeof ev[0];
    for (size_t i = 0; i < count && w->callback; i++) {
      napi_value args[4];
      args[0] = undef;
      napi_get_boolean(env, ev[i].id == GPIO_V2_LINE_EVENT_RISING_EDGE, &args[1]);
      uint64_t ns = ev[i].timestamp_ns;
      napi_create_double(env, (double)(ns / 1000000) + (double)(ns % 1000000) / 1e6, &args[2]);
      napi_create_uint32(env, ev[i].line_seqno, &args[3]);
      napi_call_function(env, global, cb, 4, args, NULL);
      bool pending;
      if (napi_is_exception_pending(env, &pending) == napi_ok && pending) {
        napi_value e;
        napi_get_and_clear_last_exception(env, &e);
        napi_fatal_exception(env, e);
      }
    }
    if (count < sizeof ev / sizeof ev[0] || !w->callback) break;
  }
  napi_close_handle_scope(env, scope);
}

// watch(requestFd, callback) -> handle; stop with unwatch(handle).
static napi_value watch(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t fd;
  if (!arg_int(env, argv[0], &fd)) return throw_type(env, "fd must be an integer");
  uv_loop_t *loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) return throw_type(env, "no event loop");
  watch_t *w = calloc(1, sizeof *w);
  if (!w) return throw_errno(env, "watch", ENOMEM);
  w->env = env;
  w->fd = fd;
  w->poll.data = w;
  int r = uv_poll_init(loop, &w->poll, fd);
  if (r < 0) {
    free(w);
    napi_throw_error(env, "EGPIO", uv_strerror(r));
    return NULL;
  }
  napi_create_reference(env, argv[1], 1, &w->callback);
  r = uv_poll_start(&w->poll, UV_READABLE, watch_ready);
  if (r < 0) {
    watch_stop(w);
    napi_throw_error(env, "EGPIO", uv_strerror(r));
    return NULL;
  }
  // The handle must not keep the process alive by itself.
  uv_unref((uv_handle_t *)&w->poll);
  napi_value handle;
  napi_create_external(env, w, NULL, NULL, &handle);
  return handle;
}

static napi_value unwatch(napi_env env, napi_callback_info info) {
  ARGS(1);
  void *w;
  if (napi_get_value_external(env, argv[0], &w) != napi_ok) return throw_type(env, "not a watch handle");
  watch_stop(w);
  return NULL;
}

NAPI_MODULE_INIT() {
  struct { const char *name; napi_callback fn; } fns[] = {
      {"chipOpen", chip_open}, {"chipInfo", chip_info}, {"lineInfo", line_info}, {"lineRequest", line_request},
      {"lineSet", line_set},   {"lineGet", line_get},   {"close", fd_close},     {"monotonicMs", monotonic_ms},
      {"watch", watch},        {"unwatch", unwatch},
  };
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_value f;
    napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &f);
    napi_set_named_property(env, exports, fns[i].name, f);
  }
  napi_value flags;
  napi_create_object(env, &flags);
  set_prop(env, flags, "USED", make_int(env, GPIO_V2_LINE_FLAG_USED));
  set_prop(env, flags, "ACTIVE_LOW", make_int(env, GPIO_V2_LINE_FLAG_ACTIVE_LOW));
  set_prop(env, flags, "INPUT", make_int(env, GPIO_V2_LINE_FLAG_INPUT));
  set_prop(env, flags, "OUTPUT", make_int(env, GPIO_V2_LINE_FLAG_OUTPUT));
  set_prop(env, flags, "EDGE_RISING", make_int(env, GPIO_V2_LINE_FLAG_EDGE_RISING));
  set_prop(env, flags, "EDGE_FALLING", make_int(env, GPIO_V2_LINE_FLAG_EDGE_FALLING));
  napi_set_named_property(env, exports, "FLAGS", flags);
  return exports;
}
