#include "version.h"

namespace notifications {

const char* ProjectVersion() { return NB_VERSION; }

}  // namespace notifications
