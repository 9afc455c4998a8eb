#include "host/task/subject.hpp"

namespace rig::task {

const Subject* SubjectList::find(const std::string& id) const {
  for (const auto& subject : subjects) {
    if (subject.id == id) return &subject;
  }
  return nullptr;
}

}  // namespace rig::task
