#include "config_option.h"

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iterator>
#include <memory>
#include <vector>

#include "config_file.h"

namespace notifications {
namespace {

// A CLI11 config formatter over ParseConfigFile(): CLI11 applies the items
// it returns to the options that have no value yet, with their checks.
class ConfigReader final : public CLI::Config {
 public:
  explicit ConfigReader(const CLI::App* app) : app_(app) {}

  std::string to_config(const CLI::App*, bool, bool,
                        std::string) const override {
    return "";  // Never written by the programs.
  }

  std::vector<CLI::ConfigItem> from_config(std::istream& input) const override {
    const std::string file = FileName();
    const std::string where = app_->get_config_ptr()->get_name() + " " + file;
    std::string text;
    // One byte past the limit is enough for ParseConfigFile() to refuse.
    char buffer[4096];
    while (input.read(buffer, sizeof buffer) || input.gcount() > 0) {
      text.append(buffer, static_cast<size_t>(input.gcount()));
      if (text.size() > kMaxConfigFileBytes) break;
    }
    Result<std::vector<ConfigEntry>> entries = ParseConfigFile(text);
    if (!entries.ok()) {
      throw CLI::ConfigError(where + ": " + entries.status().message());
    }
    std::vector<CLI::ConfigItem> out;
    std::map<std::string, size_t> first_line;  // key -> line
    std::map<std::string, size_t> item_of;     // key -> index in items
    for (const ConfigEntry& entry : *entries) {
      const std::string line = "line " + std::to_string(entry.line);
      const CLI::Option* option = app_->get_option_no_throw("--" + entry.key);
      if (option == nullptr || !option->get_configurable() ||
          option->get_lnames().empty() || entry.key == "help" ||
          entry.key == "version") {
        throw CLI::ConfigError(where + ": " + line + ": unknown key \"" +
                               entry.key +
                               "\" (keys are the long flag names without --, "
                               "see --help)");
      }
      auto seen = first_line.find(entry.key);
      if (seen != first_line.end() && option->get_items_expected_max() <= 1) {
        throw CLI::ConfigError(where + ": " + line + ": \"" + entry.key +
                               "\" given twice (first on line " +
                               std::to_string(seen->second) + ")");
      }
      first_line.emplace(entry.key, entry.line);
      if (option->count() > 0 || FromEnvironment(*option)) continue;
      sources_["--" + entry.key] =
          " (from " + file + " line " + std::to_string(entry.line) + ")";
      auto index = item_of.find(entry.key);
      if (index != item_of.end()) {
        std::vector<std::string>& inputs = out[index->second].inputs;
        inputs.insert(inputs.end(), entry.values.begin(), entry.values.end());
        continue;
      }
      item_of.emplace(entry.key, out.size());
      CLI::ConfigItem item;
      item.name = entry.key;
      item.inputs = entry.values;
      out.push_back(std::move(item));
    }
    return out;
  }

  const std::map<std::string, std::string>& sources() const { return sources_; }

 private:
  std::string FileName() const {
    const CLI::Option* config = app_->get_config_ptr();
    return config != nullptr && !config->results().empty()
               ? config->results().front()
               : "";
  }

  static bool FromEnvironment(const CLI::Option& option) {
    const std::string variable = option.get_envname();
    if (variable.empty()) return false;
    const char* value = std::getenv(variable.c_str());
    return value != nullptr && value[0] != '\0';
  }

  const CLI::App* app_;
  // Filled by from_config(), which CLI11 declares const.
  mutable std::map<std::string, std::string> sources_;
};

}  // namespace

void AddConfigFileOption(CLI::App& app, const std::string& flag,
                         const std::string& help) {
  app.set_config(flag, "", help);
  app.config_formatter(std::make_shared<ConfigReader>(&app));
}

std::map<std::string, std::string> ConfigFileSources(const CLI::App& app) {
  auto reader =
      std::dynamic_pointer_cast<const ConfigReader>(app.get_config_formatter());
  return reader ? reader->sources() : std::map<std::string, std::string>{};
}

}  // namespace notifications
