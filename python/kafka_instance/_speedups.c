/* KafkaProducer.send's common case in C: a message with a value and a key
 * (no headers, partition or timestamp) is serialized, given a tag and a
 * future, and appended to the batch being gathered, at about a third of
 * what the same steps cost in Python. Everything else (threads, shipping
 * batches to the library, delivery reports) stays in connection.py, which
 * has a Python class with the same methods for when this module is not
 * built (_PyCore there: keep the two in step).
 *
 * The batch lives here, guarded by the GIL: from the start to the end of a
 * change to it (the parts marked "batch"), nothing runs Python code,
 * releases the GIL or makes an object the cycle collector tracks (whose
 * allocation could run a collection, and finalizers). Python code is called
 * (serializers, the future's class, the methods below) only outside them.
 * This module does not declare support for Python without a GIL, which
 * therefore turns its GIL back on to import it. (A lock here cost a twentieth
 * of the sending thread's time for nothing.)
 *
 * Methods of the subclass this calls: _refuse() raises the closed-producer
 * error; _start_threads(); _send_other(topic, value, key, headers,
 * partition, timestamp_ms) for the other messages; _ship_from_send() when a
 * batch is sealed (full, or nothing was on its way), to hand it over.
 *
 * A sealed batch goes to the `ready` deque as (topic bytes, first tag,
 * data bytes, lengths bytes): lengths are native int64 pairs (key, value;
 * -1 for none), as kafka_producer_send_tracked_packed takes them. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <pythread.h>

#include <stdint.h>
#include <string.h>

#if PY_VERSION_HEX < 0x030A0000
static inline PyObject *Py_NewRef(PyObject *o) {
  Py_INCREF(o);
  return o;
}
#endif

/* The futures of messages not yet answered, by tag: what a dict of them
 * would do (connection.py uses it as one: [tag] = future, pop, values,
 * clear, len), without a Python int and a hash per message. Tags are
 * handed out in order and answered roughly in order, so most live in a
 * ring indexed by tag, over the window [base, end). An entry older than
 * WINDOW tags (a message waiting long on a partition while others flow)
 * moves to a dict, which keeps the ring's size bounded by WINDOW. */
#define WINDOW ((uint64_t)1 << 20)

typedef struct {
  PyObject_HEAD
  PyObject **slots; /* cap entries; tag t at t & (cap - 1) */
  uint64_t cap;     /* a power of 2, or 0 before the first entry */
  uint64_t base, end;
  Py_ssize_t count;   /* entries in the ring */
  PyObject *overflow; /* dict: tag -> future, for tags below base; or NULL */
} Pending;

static PyTypeObject *PendingType;

/* Moves the ring's entries below `to` to the overflow dict. -1: out of
 * memory (the ones not moved yet stay). */
static int pending_evict(Pending *p, uint64_t to) {
  if (!p->overflow && !(p->overflow = PyDict_New())) return -1;
  for (; p->base < to && p->base < p->end; p->base++) {
    PyObject **slot = &p->slots[p->base & (p->cap - 1)];
    if (!*slot) continue;
    PyObject *tag = PyLong_FromUnsignedLongLong(p->base);
    if (!tag || PyDict_SetItem(p->overflow, tag, *slot) < 0) {
      Py_XDECREF(tag);
      return -1;
    }
    Py_DECREF(tag);
    Py_CLEAR(*slot);
    p->count--;
  }
  if (p->base < to) p->base = p->end = to;
  return 0;
}

/* Doubles the ring until tag fits in it. */
static int pending_grow(Pending *p, uint64_t tag) {
  uint64_t cap = p->cap ? p->cap : 1024;
  while (tag - p->base >= cap) cap *= 2;
  if (cap == p->cap) return 0;
  PyObject **slots = PyMem_Calloc((size_t)cap, sizeof(PyObject *));
  if (!slots) {
    PyErr_NoMemory();
    return -1;
  }
  for (uint64_t t = p->base; t < p->end; t++) slots[t & (cap - 1)] = p->slots[t & (p->cap - 1)];
  PyMem_Free(p->slots);
  p->slots = slots;
  p->cap = cap;
  return 0;
}

/* Adds tag -> future (a new reference is taken). Runs no Python code
 * once the overflow dict exists (the producer makes it at once): nothing
 * that allocates here triggers the cycle collector. */
static int pending_put(Pending *p, uint64_t tag, PyObject *future) {
  if (p->count == 0 && tag >= p->base) p->base = p->end = tag; /* an empty ring starts here */
  if (tag < p->base) {
    if (!p->overflow && !(p->overflow = PyDict_New())) return -1;
    PyObject *t = PyLong_FromUnsignedLongLong(tag);
    if (!t) return -1;
    int rc = PyDict_SetItem(p->overflow, t, future);
    Py_DECREF(t);
    return rc;
  }
  if (tag - p->base >= WINDOW && pending_evict(p, tag - WINDOW + 1) < 0) return -1;
  if (tag - p->base >= p->cap && pending_grow(p, tag) < 0) return -1;
  PyObject **slot = &p->slots[tag & (p->cap - 1)];
  PyObject *old = *slot;
  *slot = Py_NewRef(future);
  if (old) {
    Py_DECREF(old);
  } else {
    p->count++;
  }
  if (tag >= p->end) p->end = tag + 1;
  return 0;
}

/* Removes tag's future and returns it (a new reference); NULL with no
 * error set when the tag is not pending. */
static PyObject *pending_pop(Pending *p, uint64_t tag) {
  if (tag >= p->base && tag < p->end) {
    PyObject **slot = &p->slots[tag & (p->cap - 1)];
    PyObject *found = *slot;
    if (!found) return NULL;
    *slot = NULL;
    p->count--;
    while (p->base < p->end && !p->slots[p->base & (p->cap - 1)]) p->base++;
    return found;
  }
  if (!p->overflow || tag >= p->base) return NULL;
  PyObject *t = PyLong_FromUnsignedLongLong(tag);
  if (!t) return NULL;
  PyObject *found = PyDict_GetItemWithError(p->overflow, t);
  if (found) {
    Py_INCREF(found);
    if (PyDict_DelItem(p->overflow, t) < 0) Py_CLEAR(found);
  }
  Py_DECREF(t);
  return found;
}

static int tag_of(PyObject *o, uint64_t *tag) {
  unsigned long long t = PyLong_AsUnsignedLongLong(o);
  if (t == (unsigned long long)-1 && PyErr_Occurred()) return -1;
  *tag = t;
  return 0;
}

static Py_ssize_t Pending_len(Pending *p) {
  return p->count + (p->overflow ? PyDict_GET_SIZE(p->overflow) : 0);
}

static int Pending_ass_subscript(Pending *p, PyObject *key, PyObject *value) {
  uint64_t tag;
  if (tag_of(key, &tag) < 0) return -1;
  if (value) return pending_put(p, tag, value);
  PyObject *found = pending_pop(p, tag);
  if (found) {
    Py_DECREF(found);
    return 0;
  }
  if (!PyErr_Occurred()) PyErr_SetObject(PyExc_KeyError, key);
  return -1;
}

static PyObject *Pending_pop(Pending *p, PyObject *const *args, Py_ssize_t nargs) {
  uint64_t tag;
  if (nargs < 1 || nargs > 2) {
    PyErr_SetString(PyExc_TypeError, "pop(tag[, default])");
    return NULL;
  }
  if (tag_of(args[0], &tag) < 0) return NULL;
  PyObject *found = pending_pop(p, tag);
  if (found || PyErr_Occurred()) return found;
  if (nargs == 2) return Py_NewRef(args[1]);
  PyErr_SetObject(PyExc_KeyError, args[0]);
  return NULL;
}

/* The futures, oldest tag first (the overflow's are the oldest). */
static PyObject *Pending_values(Pending *p, PyObject *Py_UNUSED(ignored)) {
  PyObject *out = p->overflow ? PyDict_Values(p->overflow) : PyList_New(0);
  if (!out) return NULL;
  for (uint64_t t = p->base; t < p->end; t++) {
    PyObject *f = p->slots[t & (p->cap - 1)];
    if (f && PyList_Append(out, f) < 0) {
      Py_DECREF(out);
      return NULL;
    }
  }
  return out;
}

/* Empties it first, then drops the references: a future freed here runs
 * no code that could see it half-emptied. */
static PyObject *Pending_clear(Pending *p, PyObject *Py_UNUSED(ignored)) {
  PyObject **slots = p->slots, *overflow = p->overflow;
  uint64_t cap = p->cap;
  p->slots = NULL;
  p->overflow = NULL;
  p->cap = p->base = p->end = 0;
  p->count = 0;
  for (uint64_t i = 0; i < cap; i++) Py_XDECREF(slots[i]);
  PyMem_Free(slots);
  Py_XDECREF(overflow);
  Py_RETURN_NONE;
}

static void Pending_dealloc(Pending *p) {
  PyTypeObject *type = Py_TYPE(p);
  PyObject *r = Pending_clear(p, NULL);
  Py_XDECREF(r);
  type->tp_free((PyObject *)p);
  Py_DECREF(type);
}

static PyMethodDef Pending_methods[] = {
    {"pop", (PyCFunction)(void (*)(void))Pending_pop, METH_FASTCALL, "pop(tag[, default])"},
    {"values", (PyCFunction)Pending_values, METH_NOARGS, "the futures, oldest first"},
    {"clear", (PyCFunction)Pending_clear, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot Pending_slots[] = {
    {Py_tp_doc, "Pending futures by tag (a dict's subset)."},
    {Py_tp_dealloc, Pending_dealloc},
    {Py_tp_methods, Pending_methods},
    {Py_mp_length, Pending_len},
    {Py_mp_ass_subscript, Pending_ass_subscript},
    {0, NULL},
};

static PyType_Spec Pending_spec = {
    "kafka_instance._speedups.Pending",
    sizeof(Pending),
    0,
    Py_TPFLAGS_DEFAULT,
    Pending_slots,
};

typedef struct {
  PyObject *topic; /* bytes */
  unsigned long long first;
  PyObject *data;    /* bytes */
  PyObject *lengths; /* bytes */
} Sealed;

typedef struct {
  PyObject_HEAD
  /* Set once by _core_init. */
  PyObject *value_serializer, *key_serializer; /* None: the defaults */
  PyObject *dumps, *future_type, *as_bytes, *key_bytes;
  Pending *pending; /* tag -> future */
  PyObject *ready;   /* collections.deque of sealed batches */
  PyObject *topics;  /* dict: topic str -> its UTF-8 bytes */
  Py_ssize_t batch;
  /* Written by the subclass under its own lock, read here. */
  char closed, started, shipping;
  long long in_flight;
  /* The batch. */
  unsigned long long next_tag;
  PyObject *batch_topic; /* NULL while the batch is empty */
  unsigned long long batch_first;
  char *data;
  Py_ssize_t data_len, data_cap;
  int64_t *lengths;
  Py_ssize_t n_lengths, lengths_cap;
} Core;

static int grow(void **buf, Py_ssize_t *cap, Py_ssize_t need, size_t unit) {
  if (need <= *cap) return 0;
  Py_ssize_t n = *cap ? *cap : 256;
  while (n < need) {
    if (n > PY_SSIZE_T_MAX / 2) return -1;
    n *= 2;
  }
  void *p = PyMem_Realloc(*buf, (size_t)n * unit);
  if (!p) return -1;
  *buf = p;
  *cap = n;
  return 0;
}

/* Takes the gathered batch out (a batch change: allocates bytes only, which
 * runs no Python code). 0: nothing gathered or taken; -1: out of memory,
 * the batch left as it was. */
static int seal_batch(Core *self, Sealed *out) {
  if (self->n_lengths == 0) return 0;
  PyObject *data = PyBytes_FromStringAndSize(self->data, self->data_len);
  PyObject *lengths = PyBytes_FromStringAndSize((const char *)self->lengths,
                                                self->n_lengths * (Py_ssize_t)sizeof(int64_t));
  if (!data || !lengths) {
    Py_XDECREF(data);
    Py_XDECREF(lengths);
    return -1;
  }
  out->topic = self->batch_topic; /* the reference moves */
  out->first = self->batch_first;
  out->data = data;
  out->lengths = lengths;
  self->batch_topic = NULL;
  self->data_len = 0;
  self->n_lengths = 0;
  return 0;
}

/* Appends a sealed batch to `ready` (after the batch change); consumes it. */
static int hand_over(Core *self, Sealed *s) {
  if (!s->topic) return 0;
  PyObject *first = PyLong_FromUnsignedLongLong(s->first);
  PyObject *t = first ? PyTuple_Pack(4, s->topic, first, s->data, s->lengths) : NULL;
  Py_XDECREF(first);
  Py_CLEAR(s->topic);
  Py_CLEAR(s->data);
  Py_CLEAR(s->lengths);
  if (!t) return -1;
  PyObject *r = PyObject_CallMethod(self->ready, "append", "(O)", t);
  Py_DECREF(t);
  if (!r) return -1;
  Py_DECREF(r);
  return 0;
}

static int initialised(Core *self) {
  if (!self->pending) {
    PyErr_SetString(PyExc_RuntimeError, "the producer was not initialised (_core_init)");
    return 0;
  }
  return 1;
}

static PyObject *call_method(Core *self, const char *name) {
  return PyObject_CallMethod((PyObject *)self, name, NULL);
}

/* A serializer's output as bytes: exact bytes as they are, anything else
 * through the subclass's check (copies bytes-like, raises TypeError). */
static PyObject *as_bytes(Core *self, PyObject *data, const char *what) {
  if (!data || PyBytes_CheckExact(data)) return data;
  PyObject *b = PyObject_CallFunction(self->as_bytes, "Os", data, what);
  Py_DECREF(data);
  return b;
}

/* FutureRecordMetadata's fields (the class itself, in connection.py,
 * adds the methods). Not tracked by Python's cycle collector: a producer
 * keeps thousands of them alive at a time, and tracking them made the
 * collector run through all of them again and again. They hold no cycle
 * once resolved (the callbacks are dropped after they run). */
typedef struct {
  PyObject_HEAD
  PyObject *topic, *done, *value, *error, *callbacks, *errbacks;
  int partition;
  long long offset, timestamp;
} Future;

static PyTypeObject *FutureType;

static PyObject *future_make(PyTypeObject *type, PyObject *topic) {
  Future *f = (Future *)type->tp_alloc(type, 0);
  if (!f) return NULL;
  f->topic = Py_NewRef(topic);
  f->partition = -1;
  f->offset = f->timestamp = -1;
  return (PyObject *)f;
}

static PyObject *Future_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
  PyObject *topic;
  if (kwargs && PyDict_GET_SIZE(kwargs)) {
    PyErr_SetString(PyExc_TypeError, "a future takes one argument, its topic");
    return NULL;
  }
  if (!PyArg_UnpackTuple(args, "future", 1, 1, &topic)) return NULL;
  return future_make(type, topic);
}

static void Future_dealloc(Future *f) {
  PyTypeObject *type = Py_TYPE(f);
  Py_CLEAR(f->topic);
  Py_CLEAR(f->done);
  Py_CLEAR(f->value);
  Py_CLEAR(f->error);
  Py_CLEAR(f->callbacks);
  Py_CLEAR(f->errbacks);
  type->tp_free((PyObject *)f);
  Py_DECREF(type);
}

static PyMemberDef Future_members[] = {
    {"_topic", T_OBJECT, offsetof(Future, topic), READONLY, NULL},
    {"_done", T_OBJECT, offsetof(Future, done), 0, NULL},
    {"_value", T_OBJECT, offsetof(Future, value), 0, NULL},
    {"_error", T_OBJECT, offsetof(Future, error), 0, NULL},
    {"_callbacks", T_OBJECT, offsetof(Future, callbacks), 0, NULL},
    {"_errbacks", T_OBJECT, offsetof(Future, errbacks), 0, NULL},
    {"_partition", T_INT, offsetof(Future, partition), 0, NULL},
    {"_offset", T_LONGLONG, offsetof(Future, offset), 0, NULL},
    {"_timestamp", T_LONGLONG, offsetof(Future, timestamp), 0, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot Future_slots[] = {
    {Py_tp_doc, "FutureRecordMetadata's fields, compiled."},
    {Py_tp_new, Future_new},
    {Py_tp_dealloc, Future_dealloc},
    {Py_tp_members, Future_members},
    {0, NULL},
};

static PyType_Spec Future_spec = {
    "kafka_instance._speedups.FutureBase",
    sizeof(Future),
    0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    Future_slots,
};

/* A KafkaTrackedReport, as kafka_instance.h lays it out (connection.py
 * passes its size to _core_init, which checks it). */
typedef struct {
  uint64_t tag;
  int32_t code, rdkafka_code, partition;
  int64_t offset, timestamp_ms;
} Report;

static int is_set(PyObject *o) { return o && o != Py_None; }

static PyObject *NAMES[6];
enum { TOPIC, VALUE, KEY, HEADERS, PARTITION, TIMESTAMP };

static int parse(PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames, PyObject **a) {
  if (nargs > 6) {
    PyErr_Format(PyExc_TypeError, "send() takes at most 6 arguments (%zd given)", nargs);
    return -1;
  }
  for (Py_ssize_t i = 0; i < nargs; i++) a[i] = args[i];
  Py_ssize_t nk = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
  for (Py_ssize_t k = 0; k < nk; k++) {
    PyObject *name = PyTuple_GET_ITEM(kwnames, k);
    int at = -1;
    for (int i = 0; i < 6 && at < 0; i++)
      if (name == NAMES[i]) at = i;
    for (int i = 0; i < 6 && at < 0; i++) {
      int eq = PyObject_RichCompareBool(name, NAMES[i], Py_EQ);
      if (eq < 0) return -1;
      if (eq) at = i;
    }
    if (at < 0) {
      PyErr_Format(PyExc_TypeError, "send() got an unexpected keyword argument '%U'", name);
      return -1;
    }
    if (a[at]) {
      PyErr_Format(PyExc_TypeError, "send() got multiple values for argument '%U'", name);
      return -1;
    }
    a[at] = args[nargs + k];
  }
  if (!a[TOPIC]) {
    PyErr_SetString(PyExc_TypeError, "send() missing required argument: 'topic'");
    return -1;
  }
  return 0;
}

static PyObject *Core_send(Core *self, PyObject *const *args, Py_ssize_t nargs,
                           PyObject *kwnames) {
  PyObject *a[6] = {NULL, NULL, NULL, NULL, NULL, NULL};
  if (parse(args, nargs, kwnames, a) < 0 || !initialised(self)) return NULL;
  for (int i = 0; i < 6; i++)
    if (!a[i]) a[i] = Py_None;
  PyObject *topic = a[TOPIC], *value = a[VALUE], *key = a[KEY];
  int named = PyObject_IsTrue(topic);
  if (named < 0) return NULL;
  if (!named) {
    PyErr_SetString(PyExc_ValueError, "send: a topic is required");
    return NULL;
  }
  if (self->closed) return call_method(self, "_refuse");
  if (!self->started) {
    PyObject *r = call_method(self, "_start_threads");
    if (!r) return NULL;
    Py_DECREF(r);
  }
  int stamped = a[TIMESTAMP] == Py_None ? 0 : PyObject_IsTrue(a[TIMESTAMP]);
  if (stamped < 0) return NULL;
  if (a[HEADERS] != Py_None || a[PARTITION] != Py_None || stamped)
    return PyObject_CallMethod((PyObject *)self, "_send_other", "OOOOOO", topic, value, key,
                               a[HEADERS], a[PARTITION], a[TIMESTAMP]);
  if (!PyUnicode_Check(topic)) {
    PyErr_Format(PyExc_TypeError, "topic must be str, not %.100s", Py_TYPE(topic)->tp_name);
    return NULL;
  }

  PyObject *payload = NULL, *kb = NULL, *future = NULL;
  if (value != Py_None) {
    payload = self->value_serializer == Py_None
                  ? PyObject_CallOneArg(self->dumps, value)
                  : as_bytes(self, PyObject_CallOneArg(self->value_serializer, value),
                             "value_serializer");
    if (!payload) return NULL;
    if (!PyBytes_CheckExact(payload)) {
      PyErr_Format(PyExc_TypeError, "the JSON encoder returned %.100s, not bytes",
                   Py_TYPE(payload)->tp_name);
      goto fail;
    }
  }
  /* The key's bytes: kp/klen, kept alive by `key` or `kb`. */
  const char *kp = NULL;
  Py_ssize_t klen = 0;
  if (key == Py_None) {
  } else if (PyBytes_CheckExact(key)) {
    kp = PyBytes_AS_STRING(key);
    klen = PyBytes_GET_SIZE(key);
  } else if (self->key_serializer == Py_None && PyUnicode_CheckExact(key)) {
    kp = PyUnicode_AsUTF8AndSize(key, &klen); /* an ASCII str's own buffer */
    if (!kp) goto fail;
  } else {
    PyObject *f = self->key_serializer == Py_None ? self->key_bytes : self->key_serializer;
    kb = as_bytes(self, PyObject_CallOneArg(f, key), "key_serializer");
    if (!kb) goto fail;
    kp = PyBytes_AS_STRING(kb);
    klen = PyBytes_GET_SIZE(kb);
  }
  future = self->future_type == (PyObject *)FutureType
               ? future_make(FutureType, topic)
               : PyObject_CallOneArg(self->future_type, topic);
  if (!future) goto fail;
  PyObject *encoded = PyDict_GetItemWithError(self->topics, topic); /* borrowed */
  if (!encoded) {
    if (PyErr_Occurred()) goto fail;
    PyObject *e = PyUnicode_AsUTF8String(topic);
    if (!e || PyDict_SetItem(self->topics, topic, e) < 0) {
      Py_XDECREF(e);
      goto fail;
    }
    Py_DECREF(e);
    encoded = PyDict_GetItemWithError(self->topics, topic);
    if (!encoded) goto fail;
  }
  Py_ssize_t vlen = payload ? PyBytes_GET_SIZE(payload) : 0;

  /* The batch change: no Python code runs until it ends. */
  Sealed sealed[2] = {{0}, {0}};
  int ship = 0;
  if (self->closed) {
    Py_XDECREF(payload);
    Py_XDECREF(kb);
    Py_DECREF(future);
    return call_method(self, "_refuse");
  }
  if (self->n_lengths && self->batch_topic != encoded &&
      (PyBytes_GET_SIZE(self->batch_topic) != PyBytes_GET_SIZE(encoded) ||
       memcmp(PyBytes_AS_STRING(self->batch_topic), PyBytes_AS_STRING(encoded),
              (size_t)PyBytes_GET_SIZE(encoded)) != 0)) {
    if (seal_batch(self, &sealed[0]) < 0) goto fail_in_batch; /* the order is kept */
  }
  if (grow((void **)&self->data, &self->data_cap, self->data_len + klen + vlen, 1) < 0 ||
      grow((void **)&self->lengths, &self->lengths_cap, self->n_lengths + 2, sizeof(int64_t)) < 0) {
    PyErr_NoMemory();
    goto fail_in_batch;
  }
  if (pending_put(self->pending, self->next_tag, future) < 0) goto fail_in_batch;
  if (self->n_lengths == 0) {
    self->batch_topic = Py_NewRef(encoded);
    self->batch_first = self->next_tag;
  }
  self->next_tag++;
  self->lengths[self->n_lengths++] = kp ? (int64_t)klen : -1;
  self->lengths[self->n_lengths++] = payload ? (int64_t)vlen : -1;
  if (klen) memcpy(self->data + self->data_len, kp, (size_t)klen);
  self->data_len += klen;
  if (vlen) memcpy(self->data + self->data_len, PyBytes_AS_STRING(payload), (size_t)vlen);
  self->data_len += vlen;
  /* Batches waiting for the sender thread (a deque's length runs no
   * Python code), and the ones this call seals. */
  Py_ssize_t waiting = PyObject_Length(self->ready);
  /* A full batch goes; so do the gathered ones when nothing is on its
   * way. */
  ship = self->n_lengths >= 2 * self->batch || !(self->in_flight || self->shipping || waiting);
  if (ship && seal_batch(self, sealed[0].topic ? &sealed[1] : &sealed[0]) < 0) {
    /* Out of memory for the copy: the message stays gathered. */
    PyErr_Clear();
    ship = 0;
  }

  Py_CLEAR(payload);
  Py_CLEAR(kb);
  for (int i = 0; i < 2; i++) {
    if (hand_over(self, &sealed[i]) < 0) {
      /* Only out of memory gets here; the batch's futures stay pending
       * and fail at close. Tell the caller. */
      Py_DECREF(future);
      for (int j = i + 1; j < 2; j++) {
        Py_CLEAR(sealed[j].topic);
        Py_CLEAR(sealed[j].data);
        Py_CLEAR(sealed[j].lengths);
      }
      return NULL;
    }
  }
  if (ship) {
    PyObject *r = call_method(self, "_ship_from_send");
    if (!r) {
      Py_DECREF(future);
      return NULL;
    }
    Py_DECREF(r);
  }
  return future;

fail_in_batch:
  /* Before the message was added: a batch sealed for a topic change
   * still goes to the ready ones. */
  {
    PyObject *type, *val, *tb;
    PyErr_Fetch(&type, &val, &tb);
    for (int i = 0; i < 2; i++)
      if (hand_over(self, &sealed[i]) < 0) PyErr_Clear();
    PyErr_Restore(type, val, tb);
  }
fail:
  Py_XDECREF(payload);
  Py_XDECREF(kb);
  Py_XDECREF(future);
  return NULL;
}

/* _resolve_reports(buffer, n): the outcomes of n reports in `buffer`
 * (KafkaTrackedReports). A delivered message's future gets its partition,
 * offset and timestamp and is marked done; the ones somebody waits for or
 * with callbacks come back in `woken` as (future, what _done was), to be
 * completed by the caller. Failures come back untouched in `failed` as
 * (future, code, rdkafka_code). Called with the futures' lock held; runs
 * no Python code. */
static PyObject *Core_resolve_reports(Core *self, PyObject *args) {
  PyObject *buffer;
  Py_ssize_t n;
  if (!PyArg_ParseTuple(args, "On:_resolve_reports", &buffer, &n) || !initialised(self)) return NULL;
  Py_buffer view;
  if (PyObject_GetBuffer(buffer, &view, PyBUF_SIMPLE) < 0) return NULL;
  PyObject *woken = PyList_New(0), *failed = PyList_New(0), *out = NULL;
  if (!woken || !failed) goto done;
  if (n < 0 || view.len / (Py_ssize_t)sizeof(Report) < n) {
    PyErr_SetString(PyExc_ValueError, "_resolve_reports: the buffer holds fewer reports");
    goto done;
  }
  for (Py_ssize_t i = 0; i < n; i++) {
    Report r;
    memcpy(&r, (const char *)view.buf + i * (Py_ssize_t)sizeof(Report), sizeof r);
    PyObject *future = pending_pop(self->pending, r.tag);
    if (!future) {
      if (PyErr_Occurred()) goto done;
      continue; /* failed or resolved already */
    }
    if (!PyObject_TypeCheck(future, FutureType)) {
      PyErr_SetString(PyExc_TypeError, "a pending future is not a FutureBase");
      Py_DECREF(future);
      goto done;
    }
    Future *f = (Future *)future;
    PyObject *item;
    if (r.code == 0) {
      f->partition = r.partition;
      f->offset = r.offset;
      f->timestamp = r.timestamp_ms;
      PyObject *waiting = f->done ? f->done : Py_NewRef(Py_None); /* the reference moves */
      f->done = Py_NewRef(Py_True);
      if (!is_set(waiting) && !is_set(f->callbacks) && !is_set(f->errbacks)) {
        Py_DECREF(waiting);
        Py_DECREF(future);
        continue;
      }
      item = PyTuple_Pack(2, future, waiting);
      Py_DECREF(waiting);
      if (!item || PyList_Append(woken, item) < 0) goto item_failed;
    } else {
      item = Py_BuildValue("(Oii)", future, (int)r.code, (int)r.rdkafka_code);
      if (!item || PyList_Append(failed, item) < 0) goto item_failed;
    }
    Py_DECREF(item);
    Py_DECREF(future);
    continue;
  item_failed:
    Py_XDECREF(item);
    Py_DECREF(future);
    goto done;
  }
  out = PyTuple_Pack(2, woken, failed);
done:
  PyBuffer_Release(&view);
  Py_XDECREF(woken);
  Py_XDECREF(failed);
  return out;
}

static PyObject *Core_core_init(Core *self, PyObject *args) {
  PyObject *vs, *ks, *dumps, *ft, *ab, *kbf;
  Py_ssize_t batch, report_size;
  if (!PyArg_ParseTuple(args, "OOOOOOnn:_core_init", &vs, &ks, &dumps, &ft, &ab, &kbf, &batch,
                        &report_size))
    return NULL;
  if (report_size != (Py_ssize_t)sizeof(Report)) {
    PyErr_Format(PyExc_RuntimeError, "a delivery report is %zd bytes, not %zd as compiled",
                 report_size, (Py_ssize_t)sizeof(Report));
    return NULL;
  }
  if (self->pending) {
    PyErr_SetString(PyExc_RuntimeError, "_core_init was called twice");
    return NULL;
  }
  if (batch < 1) {
    PyErr_SetString(PyExc_ValueError, "batch must be at least 1");
    return NULL;
  }
  PyObject *collections = PyImport_ImportModule("collections");
  if (!collections) return NULL;
  self->ready = PyObject_CallMethod(collections, "deque", NULL);
  Py_DECREF(collections);
  self->pending = (Pending *)PyType_GenericAlloc(PendingType, 0);
  if (self->pending && !(self->pending->overflow = PyDict_New())) Py_CLEAR(self->pending);
  self->topics = PyDict_New();
  if (!self->ready || !self->pending || !self->topics) return NULL;
  self->value_serializer = Py_NewRef(vs);
  self->key_serializer = Py_NewRef(ks);
  self->dumps = Py_NewRef(dumps);
  self->future_type = Py_NewRef(ft);
  self->as_bytes = Py_NewRef(ab);
  self->key_bytes = Py_NewRef(kbf);
  self->batch = batch;
  self->next_tag = 1;
  Py_RETURN_NONE;
}

static PyObject *Core_seal(Core *self, PyObject *Py_UNUSED(ignored)) {
  if (!initialised(self)) return NULL;
  Sealed s = {0};
  if (seal_batch(self, &s) < 0) return PyErr_NoMemory();
  if (hand_over(self, &s) < 0) return NULL;
  Py_RETURN_NONE;
}

/* A tag for a message sent on its own. The gathered batch is sealed
 * first: a batch's tags follow each other (the library numbers its
 * records from the first tag). */
static PyObject *Core_take_tag(Core *self, PyObject *Py_UNUSED(ignored)) {
  if (!initialised(self)) return NULL;
  Sealed s = {0};
  if (seal_batch(self, &s) < 0) return PyErr_NoMemory();
  unsigned long long tag = self->next_tag++;
  if (hand_over(self, &s) < 0) return NULL;
  return PyLong_FromUnsignedLongLong(tag);
}

static int Core_traverse(Core *self, visitproc visit, void *arg) {
  Py_VISIT(Py_TYPE(self));
  Py_VISIT(self->value_serializer);
  Py_VISIT(self->key_serializer);
  Py_VISIT(self->dumps);
  Py_VISIT(self->future_type);
  Py_VISIT(self->as_bytes);
  Py_VISIT(self->key_bytes);
  Py_VISIT(self->pending);
  Py_VISIT(self->ready);
  Py_VISIT(self->topics);
  return 0;
}

static int Core_clear(Core *self) {
  Py_CLEAR(self->value_serializer);
  Py_CLEAR(self->key_serializer);
  Py_CLEAR(self->dumps);
  Py_CLEAR(self->future_type);
  Py_CLEAR(self->as_bytes);
  Py_CLEAR(self->key_bytes);
  Py_CLEAR(self->pending);
  Py_CLEAR(self->ready);
  Py_CLEAR(self->topics);
  return 0;
}

static void Core_dealloc(Core *self) {
  PyTypeObject *type = Py_TYPE(self);
  PyObject_GC_UnTrack(self);
  Core_clear(self);
  Py_CLEAR(self->batch_topic);
  PyMem_Free(self->data);
  PyMem_Free(self->lengths);
  type->tp_free((PyObject *)self);
  Py_DECREF(type);
}

static PyObject *Core_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
  (void)args;
  (void)kwargs;
  return type->tp_alloc(type, 0);
}

static PyMethodDef Core_methods[] = {
    {"send", (PyCFunction)(void (*)(void))Core_send, METH_FASTCALL | METH_KEYWORDS,
     "send(topic, value=None, key=None, headers=None, partition=None, timestamp_ms=None)"},
    {"_core_init", (PyCFunction)Core_core_init, METH_VARARGS, NULL},
    {"_seal", (PyCFunction)Core_seal, METH_NOARGS, NULL},
    {"_take_tag", (PyCFunction)Core_take_tag, METH_NOARGS, NULL},
    {"_resolve_reports", (PyCFunction)Core_resolve_reports, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef Core_members[] = {
    {"_closed", T_BOOL, offsetof(Core, closed), 0, NULL},
    {"_started", T_BOOL, offsetof(Core, started), 0, NULL},
    {"_shipping", T_BOOL, offsetof(Core, shipping), 0, NULL},
    {"_in_flight", T_LONGLONG, offsetof(Core, in_flight), 0, NULL},
    {"_pending", T_OBJECT_EX, offsetof(Core, pending), READONLY, NULL},
    {"_ready", T_OBJECT_EX, offsetof(Core, ready), READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot Core_slots[] = {
    {Py_tp_doc, "send()'s common case, compiled (see connection.KafkaProducer)."},
    {Py_tp_new, Core_new},
    {Py_tp_dealloc, Core_dealloc},
    {Py_tp_traverse, Core_traverse},
    {Py_tp_clear, Core_clear},
    {Py_tp_methods, Core_methods},
    {Py_tp_members, Core_members},
    {0, NULL},
};

static PyType_Spec Core_spec = {
    "kafka_instance._speedups.ProducerCore",
    sizeof(Core),
    0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    Core_slots,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_speedups", "KafkaProducer.send's common case, compiled.", -1,
    NULL, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__speedups(void) {
  static const char *names[6] = {"topic", "value", "key", "headers", "partition", "timestamp_ms"};
  for (int i = 0; i < 6; i++)
    if (!NAMES[i] && !(NAMES[i] = PyUnicode_InternFromString(names[i]))) return NULL;
  PyObject *m = PyModule_Create(&module);
  if (!m) return NULL;
  PyObject *type = PyType_FromSpec(&Core_spec);
  if (!type || PyModule_AddObject(m, "ProducerCore", type) < 0) {
    Py_XDECREF(type);
    Py_DECREF(m);
    return NULL;
  }
  PendingType = (PyTypeObject *)PyType_FromSpec(&Pending_spec);
  if (!PendingType) {
    Py_DECREF(m);
    return NULL;
  }
  FutureType = (PyTypeObject *)PyType_FromSpec(&Future_spec);
  if (!FutureType || PyModule_AddObject(m, "FutureBase", Py_NewRef((PyObject *)FutureType)) < 0) {
    Py_DECREF(m);
    return NULL;
  }
  return m;
}
