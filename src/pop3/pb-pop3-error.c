#include "pb-pop3-error.h"

G_DEFINE_QUARK (pb-pop3-error-quark, pb_pop3_error)
