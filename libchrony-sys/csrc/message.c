/* stub */ typedef int stub_message;
