/* stub */ typedef int stub_socket;
