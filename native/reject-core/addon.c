/* N-API face of the reject core (core.c): a RejectCore object per line,
 * created on the main thread, told about parts with arm/decide/test, read
 * back with take() when it signals that results are ready. */
#include <node_api.h>
#include <stdio.h>
#include <uv.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

#define ERR 256
#define TAKE 256
#define MAX_CORES 64

typedef struct {
  rc_core core;
  /* The core's thread wakes the event loop with uv_async_send alone: lock-free, so a busy or
   * preempted main thread can never hold up the real-time thread (a thread-safe function's
   * queue lock could, with no priority inheritance). */
  uv_async_t *async;
  napi_env env;
  napi_ref callback;
  napi_async_context actx;
  napi_ref keep[RC_MAX_STATIONS + 1]; /* the shared buffers the core writes into */
  int nkeep;
  int destroyed;
} addon_core;

/* Every live core, so that any exit path (process.exit, a fatal error) puts its outputs safe. */
static addon_core *live[MAX_CORES];
static pthread_mutex_t live_mu = PTHREAD_MUTEX_INITIALIZER;
static int atexit_set;

static void hold_all_at_exit(void) {
  for (int i = 0; i < MAX_CORES; i++)
    if (live[i]) rc_hold(&live[i]->core);
}

static void track(addon_core *a, int add) {
  pthread_mutex_lock(&live_mu);
  for (int i = 0; i < MAX_CORES; i++) {
    if (add && !live[i]) {
      live[i] = a;
      break;
    }
    if (!add && live[i] == a) live[i] = NULL;
  }
  if (!atexit_set) {
    atexit(hold_all_at_exit);
    atexit_set = 1;
  }
  pthread_mutex_unlock(&live_mu);
}

#define CHECK(call)                                              \
  do {                                                           \
    if ((call) != napi_ok) {                                     \
      napi_throw_error(env, "E_REJECT_CORE", "reject core: N-API call failed: " #call); \
      return NULL;                                               \
    }                                                            \
  } while (0)

static napi_value throw_coded(napi_env env, const char *code, const char *msg) {
  napi_throw_error(env, code, msg);
  return NULL;
}

static int get_prop(napi_env env, napi_value obj, const char *key, napi_value *out) {
  bool has = false;
  if (napi_has_named_property(env, obj, key, &has) != napi_ok || !has) return 0;
  if (napi_get_named_property(env, obj, key, out) != napi_ok) return 0;
  napi_valuetype t;
  napi_typeof(env, *out, &t);
  return t != napi_undefined && t != napi_null;
}

static int get_double(napi_env env, napi_value obj, const char *key, double *out) {
  napi_value v;
  return get_prop(env, obj, key, &v) && napi_get_value_double(env, v, out) == napi_ok;
}

static int get_int(napi_env env, napi_value obj, const char *key, int *out) {
  double d;
  if (!get_double(env, obj, key, &d)) return 0;
  *out = (int)d;
  return 1;
}

static int get_bool(napi_env env, napi_value obj, const char *key) {
  napi_value v;
  bool b = false;
  if (get_prop(env, obj, key, &v)) napi_get_value_bool(env, v, &b);
  return b;
}

static int get_string(napi_env env, napi_value obj, const char *key, char *buf, size_t len) {
  napi_value v;
  size_t n;
  napi_valuetype t;
  if (!get_prop(env, obj, key, &v)) return 0;
  napi_typeof(env, v, &t);
  if (t != napi_string) return 0;
  return napi_get_value_string_utf8(env, v, buf, len, &n) == napi_ok;
}

static int32_t *int32_data(napi_env env, napi_value arr, napi_ref *ref) {
  bool is = false;
  napi_is_typedarray(env, arr, &is);
  if (!is) return NULL;
  napi_typedarray_type type;
  size_t length, offset;
  void *data;
  napi_value ab;
  if (napi_get_typedarray_info(env, arr, &type, &length, &data, &ab, &offset) != napi_ok || type != napi_int32_array) return NULL;
  napi_create_reference(env, arr, 1, ref);
  return data;
}

/* On the event loop: results are ready. */
static void on_async(uv_async_t *h) {
  addon_core *a = h->data;
  if (!a || a->destroyed) return;
  napi_env env = a->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, recv;
  if (napi_get_reference_value(env, a->callback, &cb) == napi_ok && napi_get_global(env, &recv) == napi_ok) {
    if (napi_make_callback(env, a->actx, recv, cb, 0, NULL, NULL) == napi_pending_exception) {
      napi_value err;
      napi_get_and_clear_last_exception(env, &err);
      napi_fatal_exception(env, err);
    }
  }
  napi_close_handle_scope(env, scope);
}

/* From the core's thread. */
static void notify(void *ctx) {
  addon_core *a = ctx;
  uv_async_send(a->async);
}

static void free_handle(uv_handle_t *h) { free(h); }

static void destroy(napi_env env, addon_core *a) {
  if (a->destroyed) return;
  a->destroyed = 1;
  track(a, 0);
  rc_destroy(&a->core);
  for (int i = 0; i < a->nkeep; i++) napi_delete_reference(env, a->keep[i]);
  a->nkeep = 0;
  if (a->async) {
    a->async->data = NULL;
    uv_close((uv_handle_t *)a->async, free_handle);
    a->async = NULL;
  }
  if (a->callback) napi_delete_reference(env, a->callback);
  a->callback = NULL;
  if (a->actx) napi_async_destroy(env, a->actx);
  a->actx = NULL;
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  addon_core *a = data;
  destroy(env, a);
  free(a);
}

static addon_core *self(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv) {
  napi_value this_arg;
  void *data = NULL;
  if (napi_get_cb_info(env, info, argc, argv, &this_arg, NULL) != napi_ok) return NULL;
  if (napi_unwrap(env, this_arg, &data) != napi_ok || !data) {
    napi_throw_error(env, "E_REJECT_CORE", "reject core: not a RejectCore");
    return NULL;
  }
  addon_core *a = data;
  if (a->destroyed) {
    napi_throw_error(env, "E_REJECT_CORE", "reject core: stopped");
    return NULL;
  }
  return a;
}

static int open_output(napi_env env, addon_core *a, napi_value out, rc_line *line, char *err) {
  char type[16] = "", path[256] = "";
  int safe = get_bool(env, out, "safe");
  if (!get_string(env, out, "type", type, sizeof type)) {
    snprintf(err, ERR, "output without a type");
    return -1;
  }
  if (strcmp(type, "simulated") == 0) {
    napi_value st;
    int index = 0;
    if (!get_prop(env, out, "state", &st) || !get_int(env, out, "index", &index)) {
      snprintf(err, ERR, "simulated output needs state and index");
      return -1;
    }
    int32_t *shm = int32_data(env, st, &a->keep[a->nkeep]);
    if (!shm) {
      snprintf(err, ERR, "simulated output: state must be an Int32Array");
      return -1;
    }
    a->nkeep++;
    rc_line_simulated(line, shm, index, get_bool(env, out, "activeLow"), safe);
    return 0;
  }
  if (strcmp(type, "sysfs") == 0) {
    if (!get_string(env, out, "valuePath", path, sizeof path)) {
      snprintf(err, ERR, "sysfs output needs valuePath");
      return -1;
    }
    return rc_line_open_sysfs(line, path, safe, err, ERR);
  }
  if (strcmp(type, "gpiod") == 0) {
    int fd = -1;
    if (!get_int(env, out, "fd", &fd) || fd < 0) {
      snprintf(err, ERR, "gpiod output needs the line request's fd");
      return -1;
    }
    rc_line_cdev(line, fd, safe);
    return 0;
  }
  snprintf(err, ERR, "unknown output type '%s'", type);
  return -1;
}

/* new RejectCore(options, onResults) */
static napi_value construct(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], this_arg;
  CHECK(napi_get_cb_info(env, info, &argc, argv, &this_arg, NULL));
  if (argc < 2) return throw_coded(env, "E_REJECT_CORE", "reject core: new RejectCore(options, onResults)");
  napi_value o = argv[0];
  char err[ERR] = "";
  int capacity = 1024, priority = 0;
  double spin_max_ms = 0;
  get_int(env, o, "capacity", &capacity);
  get_int(env, o, "priority", &priority);
  get_double(env, o, "spinMaxMs", &spin_max_ms);
  if (capacity < 1 || capacity > 1 << 20) return throw_coded(env, "E_REJECT_CORE", "reject core: capacity out of range");
  if (!(spin_max_ms >= 0 && spin_max_ms <= 20)) return throw_coded(env, "E_REJECT_CORE", "reject core: spinMaxMs out of range (0 to 20 ms)");
  addon_core *a = calloc(1, sizeof *a);
  if (!a || rc_init(&a->core, capacity, err, sizeof err) != 0) {
    free(a);
    return throw_coded(env, "E_REJECT_CORE", err[0] ? err : "reject core: out of memory");
  }
  rc_core *c = &a->core;
  get_double(env, o, "window", &c->window);
  get_int(env, o, "failsafeStation", &c->failsafe_station);
  char tracking[16] = "time";
  get_string(env, o, "tracking", tracking, sizeof tracking);
  c->tracking_encoder = strcmp(tracking, "encoder") == 0;
  napi_value enc, stations;
  if (c->tracking_encoder) {
    if (!get_prop(env, o, "encoder", &enc) || !(c->encoder = int32_data(env, enc, &a->keep[a->nkeep]))) {
      rc_destroy(c);
      free(a);
      return throw_coded(env, "E_REJECT_CORE", "reject core: encoder tracking needs the encoder's Int32Array");
    }
    a->nkeep++;
  }
  uint32_t n = 0;
  if (!get_prop(env, o, "stations", &stations) || napi_get_array_length(env, stations, &n) != napi_ok || n == 0 || n > RC_MAX_STATIONS) {
    rc_destroy(c);
    free(a);
    return throw_coded(env, "E_REJECT_CORE", "reject core: 1 to 16 stations");
  }
  for (uint32_t i = 0; i < n; i++) {
    napi_value s, out;
    rc_station *st = &c->stations[i];
    napi_get_element(env, stations, i, &s);
    get_double(env, s, "pulseMs", &st->pulse_ms);
    get_double(env, s, "minGapMs", &st->min_gap_ms);
    get_double(env, s, "travel", &st->travel);
    st->owner = -1;
    st->busy_until = -1e300;
    char name[64] = "?";
    get_string(env, s, "name", name, sizeof name);
    if (!get_prop(env, s, "output", &out) || open_output(env, a, out, &st->line, err) != 0) {
      char msg[ERR + 96];
      snprintf(msg, sizeof msg, "reject output '%s': %s", name, err[0] ? err : "no output");
      c->nstations = (int)i;
      destroy(env, a);
      free(a);
      return throw_coded(env, "E_GPIO_LINE", msg);
    }
    c->nstations = (int)i + 1;
  }
  napi_value name, resource;
  uv_loop_t *loop = NULL;
  napi_create_string_utf8(env, "reject-core", NAPI_AUTO_LENGTH, &name);
  /* async hooks (AsyncLocalStorage) need a resource object for each callback into JS */
  napi_create_object(env, &resource);
  a->env = env;
  a->async = calloc(1, sizeof *a->async);
  if (!a->async || napi_get_uv_event_loop(env, &loop) != napi_ok || uv_async_init(loop, a->async, on_async) != 0 ||
      napi_create_reference(env, argv[1], 1, &a->callback) != napi_ok || napi_async_init(env, resource, name, &a->actx) != napi_ok) {
    if (a->async && !a->async->loop) {
      free(a->async);
      a->async = NULL;
    }
    destroy(env, a);
    free(a);
    return throw_coded(env, "E_REJECT_CORE", "reject core: cannot create its result callback");
  }
  a->async->data = a;
  c->notify = notify;
  c->notify_ctx = a;
  if (rc_start(c, priority, spin_max_ms, err, sizeof err) != 0) {
    destroy(env, a);
    free(a);
    return throw_coded(env, "E_REJECT_CORE", err);
  }
  track(a, 1);
  CHECK(napi_wrap(env, this_arg, a, finalize, NULL, NULL));
  return this_arg;
}

static napi_value ret_undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

/* The (id, number) every part call takes; NULL (with an exception pending) when they are not numbers. */
static addon_core *id_and_number(napi_env env, napi_callback_info info, const char *usage, int64_t *id, double *n) {
  size_t argc = 2;
  napi_value argv[2];
  addon_core *a = self(env, info, &argc, argv);
  if (!a) return NULL;
  if (argc < 2 || napi_get_value_int64(env, argv[0], id) != napi_ok || napi_get_value_double(env, argv[1], n) != napi_ok) {
    throw_coded(env, "E_REJECT_CORE", usage);
    return NULL;
  }
  return a;
}

static napi_value js_arm(napi_env env, napi_callback_info info) {
  int64_t id;
  double at;
  char err[ERR];
  addon_core *a = id_and_number(env, info, "arm(id, at)", &id, &at);
  if (!a) return NULL;
  if (rc_arm(&a->core, id, at, err, sizeof err) != 0) return throw_coded(env, "E_REJECT_CORE_FULL", err);
  return ret_undefined(env);
}

static napi_value js_decide(napi_env env, napi_callback_info info) {
  int64_t id;
  double station;
  addon_core *a = id_and_number(env, info, "decide(id, station)", &id, &station);
  if (!a) return NULL;
  rc_decide(&a->core, id, (int)station);
  return ret_undefined(env);
}

static napi_value js_test(napi_env env, napi_callback_info info) {
  int64_t id;
  double station;
  char err[ERR];
  addon_core *a = id_and_number(env, info, "test(id, station)", &id, &station);
  if (!a) return NULL;
  if (rc_test(&a->core, id, (int)station, err, sizeof err) != 0) return throw_coded(env, "E_TEST_PULSE", err);
  return ret_undefined(env);
}

/* A call without arguments that only acts on the core: hold(), kick(). */
static napi_value act(napi_env env, napi_callback_info info, void (*fn)(rc_core *)) {
  size_t argc = 0;
  addon_core *a = self(env, info, &argc, NULL);
  if (!a) return NULL;
  fn(&a->core);
  return ret_undefined(env);
}

static napi_value js_hold(napi_env env, napi_callback_info info) { return act(env, info, rc_hold); }

static napi_value js_kick(napi_env env, napi_callback_info info) { return act(env, info, rc_kick); }

static void set_num(napi_env env, napi_value obj, const char *key, double v) {
  napi_value x;
  napi_create_double(env, v, &x);
  napi_set_named_property(env, obj, key, x);
}

static void set_str(napi_env env, napi_value obj, const char *key, const char *v) {
  napi_value x;
  napi_create_string_utf8(env, v, NAPI_AUTO_LENGTH, &x);
  napi_set_named_property(env, obj, key, x);
}

static const char *OUTCOMES[] = {"rejected", "accepted", "escaped", "tested", "test-refused"};

/* take(): the finished parts and tests, in the order they finished. */
static napi_value js_take(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  addon_core *a = self(env, info, &argc, NULL);
  if (!a) return NULL;
  static __thread rc_entry buf[TAKE];
  napi_value arr;
  CHECK(napi_create_array(env, &arr));
  uint32_t k = 0;
  for (;;) {
    int n = rc_take(&a->core, buf, TAKE);
    for (int i = 0; i < n; i++) {
      rc_entry *e = &buf[i];
      napi_value r;
      napi_create_object(env, &r);
      set_num(env, r, "id", (double)e->id);
      set_str(env, r, "outcome", OUTCOMES[e->outcome]);
      set_num(env, r, "station", e->station >= 0 ? e->station : -1);
      napi_value b;
      napi_get_boolean(env, e->automatic, &b);
      napi_set_named_property(env, r, "auto", b);
      if (e->t_on > 0) {
        set_num(env, r, "tOnMs", e->t_on);
        set_num(env, r, "lateMs", e->late_ms);
      }
      if (e->t_off > 0) set_num(env, r, "tOffMs", e->t_off);
      if (e->why[0]) set_str(env, r, "why", e->why);
      napi_set_element(env, arr, k++, r);
    }
    if (n < TAKE) break;
  }
  return arr;
}

static napi_value js_stats(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  addon_core *a = self(env, info, &argc, NULL);
  if (!a) return NULL;
  rc_core *c = &a->core;
  /* A copy under the lock, the JS objects after it: V8 may collect while it allocates. */
  rc_core snap;
  pthread_mutex_lock(&c->mu);
  snap = *c;
  pthread_mutex_unlock(&c->mu);
  c = &snap;
  napi_value r;
  CHECK(napi_create_object(env, &r));
  uint64_t pulses = 0, errors = 0;
  for (int b = 0; b < RC_HIST; b++) pulses += c->hist[b];
  for (int s = 0; s < c->nstations; s++) errors += c->stations[s].line.errors;
  set_num(env, r, "priority", c->priority_got);
  set_str(env, r, "realtimeRefused", c->rt_why);
  napi_value locked;
  napi_get_boolean(env, c->locked, &locked);
  napi_set_named_property(env, r, "memoryLocked", locked);
  set_str(env, r, "memoryLockRefused", c->lock_why);
  set_num(env, r, "pulses", (double)pulses);
  set_num(env, r, "wakeups", (double)c->wakeups);
  set_num(env, r, "signals", (double)c->signals);
  uint64_t wakes = 0;
  for (int b = 0; b < RC_HIST; b++) wakes += c->wake_hist[b];
  set_num(env, r, "lateP50Ms", rc_percentile(c->hist, c->late_max_ms, 50));
  set_num(env, r, "lateP99Ms", rc_percentile(c->hist, c->late_max_ms, 99));
  set_num(env, r, "lateMaxMs", c->late_max_ms);
  set_num(env, r, "timedWakeups", (double)wakes);
  set_num(env, r, "wakeP50Ms", rc_percentile(c->wake_hist, c->wake_max_ms, 50));
  set_num(env, r, "wakeP99Ms", rc_percentile(c->wake_hist, c->wake_max_ms, 99));
  set_num(env, r, "wakeMaxMs", c->wake_max_ms);
  set_num(env, r, "leadMs", c->lead_ms);
  set_num(env, r, "spinMs", c->spin_total_ms);
  set_num(env, r, "minorFaults", (double)c->minflt);
  set_num(env, r, "majorFaults", (double)c->majflt);
  set_num(env, r, "writeErrors", (double)errors);
  return r;
}

/* stop(): outputs safe, thread joined, lines released. */
static napi_value js_stop(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  napi_value this_arg;
  void *data = NULL;
  CHECK(napi_get_cb_info(env, info, &argc, NULL, &this_arg, NULL));
  if (napi_unwrap(env, this_arg, &data) == napi_ok && data) destroy(env, data);
  return ret_undefined(env);
}

static napi_value js_now(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value v;
  napi_create_double(env, rc_now_ms(), &v);
  return v;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor methods[] = {
      {"arm", NULL, js_arm, NULL, NULL, NULL, napi_default, NULL},
      {"decide", NULL, js_decide, NULL, NULL, NULL, napi_default, NULL},
      {"test", NULL, js_test, NULL, NULL, NULL, napi_default, NULL},
      {"hold", NULL, js_hold, NULL, NULL, NULL, napi_default, NULL},
      {"kick", NULL, js_kick, NULL, NULL, NULL, napi_default, NULL},
      {"take", NULL, js_take, NULL, NULL, NULL, napi_default, NULL},
      {"stats", NULL, js_stats, NULL, NULL, NULL, napi_default, NULL},
      {"stop", NULL, js_stop, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_value cls, now;
  if (napi_define_class(env, "RejectCore", NAPI_AUTO_LENGTH, construct, NULL, sizeof methods / sizeof methods[0], methods, &cls) != napi_ok) return NULL;
  napi_set_named_property(env, exports, "RejectCore", cls);
  napi_create_function(env, "now", NAPI_AUTO_LENGTH, js_now, NULL, &now);
  napi_set_named_property(env, exports, "now", now);
  return exports;
}
