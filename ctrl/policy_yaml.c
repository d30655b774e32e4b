/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * policy_yaml.c - a policy file's text into the tree of policy_yaml.h.
 *
 * The text is checked to be UTF-8 before libyaml sees it.  libyaml's event
 * parser then builds the tree, refusing anchors and aliases where they
 * appear: a policy never needs them and they are the way to build an
 * expansion bomb.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "policy_yaml.h"

/* What building a tree needs: where it goes and where problems go. */
struct ybuild {
	const char *file;
	struct pol_errors *errs;
	struct ydoc *d;
};

static void
offset_to_pos(const char *buf, size_t off, unsigned int *line, unsigned int *col)
{
	size_t i;

	*line = 1;
	*col = 1;
	for (i = 0; i < off; i++) {
		if (buf[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)buf[i] & 0xc0) != 0x80) {
			(*col)++;
		}
	}
}

/*
 * Refuse what is not UTF-8 text before libyaml sees it, with the position of
 * the first bad byte: binary garbage would otherwise get a vaguer message.
 */
static int
check_text(struct ybuild *yb, const char *buf, size_t len)
{
	const unsigned char *s = (const unsigned char *)buf;
	size_t i = 0, k, n;
	unsigned int line, col;
	uint32_t cp, min;
	const char *why;

	while (i < len) {
		unsigned char b = s[i];

		if (b < 0x80) {
			if (b < 0x20 && b != '\t' && b != '\n' && b != '\r') {
				why = b == 0 ? "a NUL byte: this is not a text file"
					     : "a control character: this is not a text file";
				goto bad;
			}
			if (b == 0x7f) {
				why = "a DEL character: this is not a text file";
				goto bad;
			}
			i++;
			continue;
		}
		why = "invalid UTF-8";
		if (b >= 0xc2 && b <= 0xdf) {
			n = 2;
			cp = b & 0x1f;
			min = 0x80;
		} else if (b >= 0xe0 && b <= 0xef) {
			n = 3;
			cp = b & 0x0f;
			min = 0x800;
		} else if (b >= 0xf0 && b <= 0xf4) {
			n = 4;
			cp = b & 0x07;
			min = 0x10000;
		} else {
			goto bad;
		}
		if (i + n > len)
			goto bad;
		for (k = 1; k < n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				goto bad;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			goto bad;
		i += n;
	}
	return 0;
bad:
	offset_to_pos(buf, i, &line, &col);
	pol_error_add(yb->errs, yb->file, line, col, "%s (byte 0x%02x at offset %zu)", why,
		      s[i], i);
	return -1;
}

static uint32_t
y_new(struct ybuild *yb, enum ykind kind, const yaml_mark_t *m)
{
	struct ydoc *d = yb->d;
	struct ynode *v;

	if (d->n >= Y_MAX_NODES) {
		pol_error_add(yb->errs, yb->file, (unsigned int)m->line + 1,
			      (unsigned int)m->column + 1,
			      "policy too large: more than %u YAML nodes", Y_MAX_NODES);
		return 0;
	}
	if (d->n == d->cap) {
		uint32_t cap = d->cap ? d->cap * 2 : 1024;

		v = realloc(d->v, cap * sizeof(*v));
		if (v == NULL)
			goto nomem;
		d->v = v;
		d->cap = cap;
	}
	if (d->n == 0)
		memset(&d->v[d->n++], 0, sizeof(*v));
	v = &d->v[d->n];
	memset(v, 0, sizeof(*v));
	v->kind = kind;
	v->line = (uint32_t)m->line + 1;
	v->col = (uint32_t)m->column + 1;
	return d->n++;
nomem:
	pol_error_add(yb->errs, yb->file, 0, 0, "out of memory");
	return 0;
}

static int
y_str(struct ybuild *yb, uint32_t node, const char *s, size_t len)
{
	struct ydoc *d = yb->d;

	if (d->slen + len + 1 > d->scap) {
		size_t cap = d->scap ? d->scap : 65536;
		char *ns;

		while (cap < d->slen + len + 1)
			cap *= 2;
		ns = realloc(d->s, cap);
		if (ns == NULL) {
			pol_error_add(yb->errs, yb->file, 0, 0, "out of memory");
			return -1;
		}
		d->s = ns;
		d->scap = cap;
	}
	memcpy(d->s + d->slen, s, len);
	d->s[d->slen + len] = '\0';
	d->v[node].str = (uint32_t)d->slen;
	d->v[node].len = (uint32_t)len;
	d->slen += len + 1;
	return 0;
}

static void
y_attach(struct ybuild *yb, uint32_t parent, uint32_t child)
{
	struct ynode *p = &yb->d->v[parent];

	if (p->last)
		yb->d->v[p->last].next = child;
	else
		p->first = child;
	p->last = child;
	p->n++;
}

static void
yaml_problem(struct ybuild *yb, const yaml_parser_t *ps, const char *buf, size_t len)
{
	unsigned int line, col;

	switch (ps->error) {
	case YAML_MEMORY_ERROR:
		pol_error_add(yb->errs, yb->file, 0, 0, "out of memory parsing YAML");
		return;
	case YAML_READER_ERROR:
		offset_to_pos(buf, ps->problem_offset < len ? ps->problem_offset : len, &line,
			      &col);
		pol_error_add(yb->errs, yb->file, line, col, "unreadable input: %s",
			      ps->problem ? ps->problem : "unknown problem");
		return;
	default:
		break;
	}
	if (ps->context != NULL)
		pol_error_add(yb->errs, yb->file, (unsigned int)ps->problem_mark.line + 1,
			      (unsigned int)ps->problem_mark.column + 1,
			      "YAML syntax error: %s %s (from line %u, column %u)",
			      ps->problem ? ps->problem : "unknown problem", ps->context,
			      (unsigned int)ps->context_mark.line + 1,
			      (unsigned int)ps->context_mark.column + 1);
	else
		pol_error_add(yb->errs, yb->file, (unsigned int)ps->problem_mark.line + 1,
			      (unsigned int)ps->problem_mark.column + 1, "YAML syntax error: %s",
			      ps->problem ? ps->problem : "unknown problem");
}

/* libyaml's events into yb->d.  The root node, 0 for an empty document, -1. */
static int64_t
tree_build(struct ybuild *yb, const char *buf, size_t len)
{
	yaml_parser_t ps;
	yaml_event_t ev;
	uint32_t stack[Y_MAX_DEPTH];
	unsigned int depth = 0, docs = 0;
	uint32_t root = 0, node;
	const unsigned char *anchor, *tag;
	int64_t rc = -1;
	bool done = false;

	if (!yaml_parser_initialize(&ps)) {
		pol_error_add(yb->errs, yb->file, 0, 0, "out of memory");
		return -1;
	}
	yaml_parser_set_input_string(&ps, (const unsigned char *)buf, len);
	yaml_parser_set_encoding(&ps, YAML_UTF8_ENCODING);
	while (!done) {
		if (!yaml_parser_parse(&ps, &ev)) {
			yaml_problem(yb, &ps, buf, len);
			goto out;
		}
		anchor = tag = NULL;
		node = 0;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1) {
				pol_error_add(yb->errs, yb->file, (unsigned int)ev.start_mark.line + 1,
					      (unsigned int)ev.start_mark.column + 1,
					      "a policy file holds one YAML document, this is a second");
				goto fail_ev;
			}
			break;
		case YAML_ALIAS_EVENT:
			pol_error_add(yb->errs, yb->file, (unsigned int)ev.start_mark.line + 1,
				      (unsigned int)ev.start_mark.column + 1,
				      "YAML alias '*%s': anchors and aliases are not allowed in a policy",
				      (const char *)ev.data.alias.anchor);
			goto fail_ev;
		case YAML_SCALAR_EVENT:
			anchor = ev.data.scalar.anchor;
			tag = ev.data.scalar.tag;
			break;
		case YAML_SEQUENCE_START_EVENT:
			anchor = ev.data.sequence_start.anchor;
			tag = ev.data.sequence_start.tag;
			break;
		case YAML_MAPPING_START_EVENT:
			anchor = ev.data.mapping_start.anchor;
			tag = ev.data.mapping_start.tag;
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		default:
			break;
		}
		if (anchor != NULL) {
			pol_error_add(yb->errs, yb->file, (unsigned int)ev.start_mark.line + 1,
				      (unsigned int)ev.start_mark.column + 1,
				      "YAML anchor '&%s': anchors and aliases are not allowed in a policy",
				      (const char *)anchor);
			goto fail_ev;
		}
		if (tag != NULL) {
			pol_error_add(yb->errs, yb->file, (unsigned int)ev.start_mark.line + 1,
				      (unsigned int)ev.start_mark.column + 1,
				      "YAML tag '%s': tags are not allowed in a policy",
				      (const char *)tag);
			goto fail_ev;
		}
		if (ev.type == YAML_SCALAR_EVENT) {
			node = y_new(yb, Y_SCALAR, &ev.start_mark);
			if (node == 0 ||
			    y_str(yb, node, (const char *)ev.data.scalar.value, ev.data.scalar.length))
				goto fail_ev;
			yb->d->v[node].plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		} else if (ev.type == YAML_SEQUENCE_START_EVENT || ev.type == YAML_MAPPING_START_EVENT) {
			if (depth >= Y_MAX_DEPTH) {
				pol_error_add(yb->errs, yb->file, (unsigned int)ev.start_mark.line + 1,
					      (unsigned int)ev.start_mark.column + 1,
					      "nested more than %u levels deep", Y_MAX_DEPTH);
				goto fail_ev;
			}
			node = y_new(yb, ev.type == YAML_SEQUENCE_START_EVENT ? Y_SEQ : Y_MAP,
				     &ev.start_mark);
			if (node == 0)
				goto fail_ev;
		}
		if (node != 0) {
			if (depth > 0)
				y_attach(yb, stack[depth - 1], node);
			else
				root = node;
			if (yb->d->v[node].kind != Y_SCALAR)
				stack[depth++] = node;
		}
		yaml_event_delete(&ev);
	}
	rc = root;
	goto out;
fail_ev:
	yaml_event_delete(&ev);
out:
	yaml_parser_delete(&ps);
	return rc;
}

int64_t
ydoc_load(struct ydoc *d, const char *file, struct pol_errors *errs, const char *buf,
	  size_t len)
{
	struct ybuild yb = { .file = file, .errs = errs, .d = d };

	if (check_text(&yb, buf, len) < 0)
		return -1;
	return tree_build(&yb, buf, len);
}

void
ydoc_free(struct ydoc *d)
{
	free(d->v);
	free(d->s);
	d->v = NULL;
	d->s = NULL;
}
